package dev.keyway.tls.cert;

import dev.keyway.core.KeywayException;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.util.IPAddress;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Subject alternative names as users write them, {@code DNS:example.com,IP:127.0.0.1} (the openssl
 * spelling), checked before they go into a certificate: a name a TLS client will never match is an error
 * now, not a mystery at handshake time.
 */
final class SubjectAltNames {
    private static final int MAX_NAMES = 1000;

    private SubjectAltNames() {
    }

    /**
     * Parses each entry (an entry may itself be a comma-separated list) into canonical {@code DNS:name} or
     * {@code IP:address} strings, without duplicates. An entry without a prefix is an IP address if it reads
     * as one, else a DNS name.
     */
    static List<String> parse(List<String> entries) {
        Set<String> out = new LinkedHashSet<>();
        if (entries == null) {
            return List.of();
        }
        for (String entry : entries) {
            if (entry == null) {
                throw KeywayException.usage("a subject alternative name is missing", "give DNS:name or IP:address");
            }
            for (String part : entry.split(",", -1)) {
                String s = part.strip();
                if (s.isEmpty()) {
                    throw KeywayException.malformed("empty subject alternative name in '" + entry + "'",
                            "separate names with single commas: DNS:example.com,IP:127.0.0.1");
                }
                out.add(one(s));
                if (out.size() > MAX_NAMES) {
                    throw KeywayException.policy("more than " + MAX_NAMES + " subject alternative names", "use fewer names");
                }
            }
        }
        return List.copyOf(out);
    }

    private static String one(String s) {
        String upper = s.toUpperCase(Locale.ROOT);
        if (upper.startsWith("DNS:")) {
            return "DNS:" + dns(s.substring(4).strip());
        }
        if (upper.startsWith("IP:")) {
            return "IP:" + ip(s.substring(3).strip());
        }
        if (isIp(s)) {
            return "IP:" + s;
        }
        int colon = s.indexOf(':');
        if (colon > 0 && s.substring(0, colon).chars().allMatch(Character::isLetter)) {
            throw KeywayException.malformed("unsupported subject alternative name type '" + s.substring(0, colon) + "'",
                    "use DNS:name or IP:address");
        }
        return "DNS:" + dns(s);
    }

    static boolean isIp(String s) {
        return IPAddress.isValidIPv4(s) || IPAddress.isValidIPv6(s);
    }

    private static String ip(String s) {
        if (!isIp(s)) {
            throw KeywayException.malformed("'" + s + "' is not an IPv4 or IPv6 address", "write e.g. IP:127.0.0.1 or IP:::1");
        }
        return s;
    }

    /** A host name (RFC 1123 labels), optionally with one leading wildcard label; lower-cased. */
    static String dns(String s) {
        String name = s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
        if (!isDnsName(name)) {
            throw KeywayException.malformed("'" + s + "' is not a valid DNS name",
                    "use letters, digits, hyphens and dots (a leading '*.' for a wildcard), at most 253 characters");
        }
        return name.toLowerCase(Locale.ROOT);
    }

    static boolean isDnsName(String name) {
        if (name.isEmpty() || name.length() > 253) {
            return false;
        }
        String[] labels = name.split("\\.", -1);
        for (int i = 0; i < labels.length; i++) {
            String l = labels[i];
            if (i == 0 && l.equals("*") && labels.length > 2) {
                continue;
            }
            if (l.isEmpty() || l.length() > 63 || l.startsWith("-") || l.endsWith("-")) {
                return false;
            }
            for (int j = 0; j < l.length(); j++) {
                char c = l.charAt(j);
                boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
                        || c == '_';
                if (!ok) {
                    return false;
                }
            }
        }
        return true;
    }

    /** The names (already parsed by {@link #parse}) as an ASN.1 GeneralNames value. */
    static GeneralNames toGeneralNames(List<String> canonical) {
        List<GeneralName> names = new ArrayList<>(canonical.size());
        for (String n : canonical) {
            if (n.startsWith("DNS:")) {
                names.add(new GeneralName(GeneralName.dNSName, n.substring(4)));
            } else {
                names.add(new GeneralName(GeneralName.iPAddress, n.substring(3)));
            }
        }
        return new GeneralNames(names.toArray(new GeneralName[0]));
    }
}

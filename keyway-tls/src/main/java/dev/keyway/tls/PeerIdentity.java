package dev.keyway.tls;

import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.Certificate;

import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.Objects;

/**
 * Who the peer is, by its leaf certificate, in the two forms people compare: the subject's common name, and
 * the SHA-256 of its SubjectPublicKeyInfo (the DER bytes as they are in the certificate; the value of a public-key
 * pin, RFC 7469 section 2.4, in hex instead of base64). The hash names the key, so it stays the same when the
 * certificate is renewed for the same key, and differs for another key with the same name.
 *
 * <p>Both are the peer's own text or derived from it: {@link #commonName()} may hold any character the peer chose,
 * so a caller that prints it escapes it (e.g. {@code Printable.escape}).
 *
 * @param commonName the most specific CN of the subject (the last in the DN's encoding order), or null when it has none
 * @param subject    the whole subject DN in RFC 2253 form
 * @param spkiSha256 lowercase hex of SHA-256(SubjectPublicKeyInfo), 64 characters
 */
public record PeerIdentity(String commonName, String subject, String spkiSha256) {
    public PeerIdentity {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(spkiSha256, "spkiSha256");
    }

    /** The identity of a leaf certificate. */
    public static PeerIdentity of(X509Certificate leaf) {
        Certificate parsed;
        try {
            parsed = Certificate.getInstance(leaf.getEncoded());
        } catch (CertificateEncodingException | IllegalArgumentException e) {
            // a certificate the JDK parsed (every peer's was) re-reads; this is a broken X509Certificate implementation
            throw new IllegalStateException("the certificate cannot be re-read", e);
        }
        return new PeerIdentity(commonName(parsed.getSubject()), leaf.getSubjectX500Principal().getName(),
                HexFormat.of().formatHex(sha256(spki(parsed))));
    }

    /**
     * One line for a connection log, e.g. {@code client CN=alice, client-spki=ab12…} for {@code role} "client";
     * the subject DN in place of the CN when there is none ({@code client subject=O=Example, client-spki=…}).
     * Nothing is escaped here.
     */
    public String summary(String role) {
        String name = commonName != null ? "CN=" + commonName : "subject=" + subject;
        return role + " " + name + ", " + role + "-spki=" + spkiSha256;
    }

    private static byte[] spki(Certificate c) {
        try {
            return c.getSubjectPublicKeyInfo().getEncoded("DER");
        } catch (IOException e) {
            throw new IllegalStateException("a SubjectPublicKeyInfo does not encode", e);
        }
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static String commonName(X500Name subject) {
        String cn = null;
        for (RDN rdn : subject.getRDNs(BCStyle.CN)) {
            for (AttributeTypeAndValue atv : rdn.getTypesAndValues()) {
                if (BCStyle.CN.equals(atv.getType())) {
                    ASN1Encodable v = atv.getValue();
                    cn = v instanceof ASN1String s ? s.getString() : v.toString();
                }
            }
        }
        return cn;
    }
}

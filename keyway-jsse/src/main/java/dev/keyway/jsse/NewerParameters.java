package dev.keyway.jsse;

import dev.keyway.tls.params.NamedGroup;

import javax.net.ssl.SSLParameters;
import java.lang.reflect.Method;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The {@link SSLParameters} that JDK 20 added ({@code getNamedGroups}, {@code getSignatureSchemes}), read by
 * reflection because Keyway is built for JDK 17: on a newer JDK an application may set them, and the provider must
 * honour them or refuse them, never ignore them.
 */
final class NewerParameters {
    private static final Method GET_GROUPS = method("getNamedGroups");
    private static final Method SET_GROUPS = method("setNamedGroups", String[].class);
    private static final Method GET_SCHEMES = method("getSignatureSchemes");

    private NewerParameters() {
    }

    private static Method method(String name, Class<?>... types) {
        try {
            return SSLParameters.class.getMethod(name, types);
        } catch (NoSuchMethodException e) {
            return null; // JDK 17 to 19
        }
    }

    private static String[] strings(Method m, SSLParameters p) {
        if (m == null) {
            return null;
        }
        try {
            return (String[]) m.invoke(p);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("SSLParameters." + m.getName(), e);
        }
    }

    /**
     * The groups {@code p} names, in its order, among those Keyway has (names it does not know are passed over, as
     * the JDK does); null when {@code p} names none (the default applies). IllegalArgumentException when it names
     * groups but none that Keyway has.
     */
    static List<NamedGroup> groups(SSLParameters p) {
        String[] names = strings(GET_GROUPS, p);
        if (names == null) {
            return null;
        }
        List<NamedGroup> out = new ArrayList<>();
        for (String n : names) {
            for (NamedGroup g : NamedGroup.values()) {
                if (g.label().equalsIgnoreCase(n) && !out.contains(g)) {
                    out.add(g);
                }
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("none of the named groups " + Arrays.toString(names) + " is supported by the Keyway provider "
                    + "(X25519MLKEM768, x25519, secp256r1 are)");
        }
        return List.copyOf(out);
    }

    /** Sets the named groups on {@code p} where the JDK has them. */
    static void setGroups(SSLParameters p, List<NamedGroup> groups) {
        if (SET_GROUPS == null) {
            return;
        }
        try {
            SET_GROUPS.invoke(p, (Object) groups.stream().map(NamedGroup::label).toArray(String[]::new));
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("SSLParameters.setNamedGroups", e);
        }
    }

    /**
     * Refuses signature schemes that would restrict Keyway's: its handshakes cannot be limited to fewer schemes, so a
     * list that leaves one of them out is refused (IllegalArgumentException); null, or a list with all of them, is fine.
     */
    static void checkSignatureSchemes(SSLParameters p) {
        String[] names = strings(GET_SCHEMES, p);
        if (names == null) {
            return;
        }
        List<String> given = Arrays.stream(names).map(s -> s.toLowerCase(Locale.ROOT)).toList();
        for (String ours : Names.SIGNATURE_SCHEMES) {
            if (!given.contains(ours)) {
                throw new IllegalArgumentException("the Keyway provider cannot restrict signature schemes (" + ours
                        + " is left out): leave SSLParameters.setSignatureSchemes unset");
            }
        }
    }
}

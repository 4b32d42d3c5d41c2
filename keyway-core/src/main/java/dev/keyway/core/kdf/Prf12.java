package dev.keyway.core.kdf;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * The TLS pseudo-random function: the TLS 1.2 one (RFC 5246 section 5, P_hash with the suite's hash)
 * and the TLS 1.0/1.1 one (RFC 2246 section 5: P_MD5 XOR P_SHA1 over the two halves of the secret),
 * with the derivations built on it: master secret, extended master secret (RFC 7627), Finished
 * verify_data and the key block.
 */
public final class Prf12 {

    /** The hash a PRF runs on. MD5_SHA1 is the TLS 1.0/1.1 construction. */
    public enum Hash {
        MD5_SHA1(36), SHA256(32), SHA384(48);

        private final int handshakeHashLength;

        Hash(int handshakeHashLength) {
            this.handshakeHashLength = handshakeHashLength;
        }

        /** Length of the handshake (session) hash this PRF goes with: MD5||SHA-1 for 1.0/1.1. */
        public int handshakeHashLength() {
            return handshakeHashLength;
        }
    }

    /** Master secrets are always 48 bytes (RFC 5246 section 8.1). */
    public static final int MASTER_SECRET_LENGTH = 48;
    /** Finished verify_data length for every suite Keyway knows (RFC 5246 section 7.4.9). */
    public static final int VERIFY_DATA_LENGTH = 12;
    private static final int MAX_OUTPUT = 1 << 16;

    private Prf12() {
    }

    /** PRF(secret, label, seed) truncated to {@code length} bytes. */
    public static byte[] prf(Hash hash, byte[] secret, String label, byte[] seed, int length) {
        if (length < 0 || length > MAX_OUTPUT) {
            throw new IllegalArgumentException("PRF output length must be 0.." + MAX_OUTPUT + ", not " + length);
        }
        byte[] labelSeed = concat(label.getBytes(StandardCharsets.US_ASCII), seed);
        if (hash != Hash.MD5_SHA1) {
            return pHash(hash == Hash.SHA256 ? "HmacSHA256" : "HmacSHA384", secret, labelSeed, length);
        }
        // RFC 2246 section 5: S1 and S2 are the two halves, sharing the middle byte when the length is odd.
        int half = (secret.length + 1) / 2;
        byte[] s1 = Arrays.copyOfRange(secret, 0, half);
        byte[] s2 = Arrays.copyOfRange(secret, secret.length - half, secret.length);
        byte[] md5 = pHash("HmacMD5", s1, labelSeed, length);
        byte[] sha1 = pHash("HmacSHA1", s2, labelSeed, length);
        for (int i = 0; i < length; i++) {
            md5[i] ^= sha1[i];
        }
        Arrays.fill(sha1, (byte) 0);
        Arrays.fill(s1, (byte) 0);
        Arrays.fill(s2, (byte) 0);
        return md5;
    }

    /** master_secret = PRF(pre_master_secret, "master secret", ClientHello.random + ServerHello.random)[0..47]. */
    public static byte[] masterSecret(Hash hash, byte[] preMasterSecret, byte[] clientRandom, byte[] serverRandom) {
        return prf(hash, preMasterSecret, "master secret", concat(random(clientRandom, "client"), random(serverRandom, "server")),
                MASTER_SECRET_LENGTH);
    }

    /** RFC 7627 section 4: PRF(pre_master_secret, "extended master secret", session_hash)[0..47]. */
    public static byte[] extendedMasterSecret(Hash hash, byte[] preMasterSecret, byte[] sessionHash) {
        return prf(hash, preMasterSecret, "extended master secret", sessionHash, MASTER_SECRET_LENGTH);
    }

    /** verify_data = PRF(master_secret, "client finished" or "server finished", Hash(handshake_messages))[0..11]. */
    public static byte[] verifyData(Hash hash, byte[] masterSecret, boolean client, byte[] handshakeHash) {
        return prf(hash, masterSecret, client ? "client finished" : "server finished", handshakeHash, VERIFY_DATA_LENGTH);
    }

    /**
     * The key block (RFC 5246 section 6.3), split for {@code suite} as {@code version} does it: TLS 1.0
     * derives IVs for CBC suites, TLS 1.1 and 1.2 do not (explicit per-record IVs); AEAD suites derive
     * the implicit part of the nonce. The PRF is MD5/SHA-1 before 1.2 and the suite's hash in 1.2.
     */
    public static KeyBlock12 keyBlock(CipherSuite suite, TlsVersion version, byte[] masterSecret, byte[] clientRandom,
                                      byte[] serverRandom) {
        if (!suite.usableWith(version)) {
            throw new IllegalArgumentException(suite.name() + " cannot be used with " + version);
        }
        int mac = suite.mac().keyLength();
        int key = suite.cipher().keyLength();
        int iv = suite.fixedIvLength(version);
        Hash hash = version == TlsVersion.TLS12 ? suite.prfHash() : Hash.MD5_SHA1;
        byte[] block = prf(hash, masterSecret, "key expansion",
                concat(random(serverRandom, "server"), random(clientRandom, "client")), 2 * (mac + key + iv));
        try {
            int at = 0;
            byte[] clientMac = Arrays.copyOfRange(block, at, at += mac);
            byte[] serverMac = Arrays.copyOfRange(block, at, at += mac);
            byte[] clientKey = Arrays.copyOfRange(block, at, at += key);
            byte[] serverKey = Arrays.copyOfRange(block, at, at += key);
            byte[] clientIv = Arrays.copyOfRange(block, at, at += iv);
            byte[] serverIv = Arrays.copyOfRange(block, at, at + iv);
            return new KeyBlock12(suite, clientMac, serverMac, clientKey, serverKey, clientIv, serverIv);
        } finally {
            Arrays.fill(block, (byte) 0);
        }
    }

    private static byte[] random(byte[] random, String who) {
        if (random.length != 32) {
            throw new IllegalArgumentException("the " + who + " random must be 32 bytes, not " + random.length);
        }
        return random;
    }

    /** P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ..., A(i) = HMAC(secret, A(i-1)). */
    private static byte[] pHash(String algorithm, byte[] secret, byte[] seed, int length) {
        try {
            Mac mac = Mac.getInstance(algorithm);
            // An empty secret is legal in the PRF (an empty half); JCE keys may not be empty, so pad to one
            // zero block, which HMAC treats identically (keys are zero-padded to the block size).
            mac.init(new SecretKeySpec(secret.length == 0 ? new byte[1] : secret, algorithm));
            byte[] out = new byte[length];
            byte[] a = seed;
            int at = 0;
            while (at < length) {
                a = mac.doFinal(a);
                mac.update(a);
                mac.update(seed);
                byte[] chunk = mac.doFinal();
                int n = Math.min(chunk.length, length - at);
                System.arraycopy(chunk, 0, out, at, n);
                Arrays.fill(chunk, (byte) 0);
                at += n;
            }
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK lacks " + algorithm, e);
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}

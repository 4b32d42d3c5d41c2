package dev.keyway.core.kdf;

/**
 * One TLS cipher suite as far as key derivation cares: which hash drives the PRF or HKDF, and how
 * long each key, IV and MAC key is. {@link CipherSuites} holds the table.
 *
 * @param code        the IANA two-byte code
 * @param name        the IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
 * @param opensslName OpenSSL's name, e.g. ECDHE-RSA-AES128-GCM-SHA256 (for TLS 1.3 the IANA name)
 * @param keyExchange key exchange; {@code ANY} for TLS 1.3 suites, which do not fix it
 * @param auth        authentication: RSA, ECDSA, PSK, SRP, or ANY for TLS 1.3
 * @param cipher      the bulk cipher
 * @param mac         the record MAC (AEAD when the cipher authenticates)
 * @param prfHash     the TLS 1.2 PRF hash (SHA256 or SHA384); for TLS 1.3 suites, the HKDF hash
 * @param tls13       whether this is a TLS 1.3 suite
 */
public record CipherSuite(int code, String name, String opensslName, KeyExchange keyExchange, String auth,
                          Cipher cipher, MacAlgorithm mac, Prf12.Hash prfHash, boolean tls13) {

    /** How the pre-master secret comes about. */
    public enum KeyExchange { ANY, ECDHE, DHE, RSA, PSK, ECDHE_PSK, DHE_PSK, RSA_PSK, SRP }

    /** Bulk ciphers, with their key length, the fixed (implicit) IV of an AEAD, and the block size. */
    public enum Cipher {
        AES_128_GCM("AES-128-GCM", 16, 4, 8, 0),
        AES_256_GCM("AES-256-GCM", 32, 4, 8, 0),
        CHACHA20_POLY1305("ChaCha20-Poly1305", 32, 12, 0, 0),
        AES_128_CBC("AES-128-CBC", 16, 0, 0, 16),
        AES_256_CBC("AES-256-CBC", 32, 0, 0, 16);

        private final String label;
        private final int keyLength;
        private final int fixedIvLength;
        private final int explicitNonceLength;
        private final int blockSize;

        Cipher(String label, int keyLength, int fixedIvLength, int explicitNonceLength, int blockSize) {
            this.label = label;
            this.keyLength = keyLength;
            this.fixedIvLength = fixedIvLength;
            this.explicitNonceLength = explicitNonceLength;
            this.blockSize = blockSize;
        }

        public int keyLength() {
            return keyLength;
        }

        /** TLS 1.2 implicit nonce part from the key block: 4 for GCM (RFC 5288), 12 for ChaCha (RFC 7905). */
        public int fixedIvLength() {
            return fixedIvLength;
        }

        /** Per-record explicit nonce in TLS 1.2: 8 for GCM, 0 for ChaCha20-Poly1305. */
        public int explicitNonceLength() {
            return explicitNonceLength;
        }

        /** Block size of a CBC cipher; 0 for AEADs. */
        public int blockSize() {
            return blockSize;
        }

        public boolean aead() {
            return blockSize == 0;
        }

        @Override
        public String toString() {
            return label;
        }
    }

    /** Record MAC algorithms of CBC suites; AEAD for suites whose cipher authenticates. */
    public enum MacAlgorithm {
        AEAD(0, null), SHA1(20, "HmacSHA1"), SHA256(32, "HmacSHA256"), SHA384(48, "HmacSHA384");

        private final int keyLength;
        private final String jcaName;

        MacAlgorithm(int keyLength, String jcaName) {
            this.keyLength = keyLength;
            this.jcaName = jcaName;
        }

        /** MAC key and tag length in bytes (0 for AEAD). */
        public int keyLength() {
            return keyLength;
        }

        /** The JCA Mac name, null for AEAD. */
        public String jcaName() {
            return jcaName;
        }
    }

    /** "0xC02F", as users and Wireshark write codes. */
    public String codeHex() {
        return String.format("0x%04X", code);
    }

    /** The HKDF hash of a TLS 1.3 suite. */
    public Hkdf.Hash hkdfHash() {
        if (!tls13) {
            throw new IllegalStateException(name + " is not a TLS 1.3 suite");
        }
        return prfHash == Prf12.Hash.SHA384 ? Hkdf.Hash.SHA384 : Hkdf.Hash.SHA256;
    }

    /**
     * Whether a connection of {@code version} may use this suite: AEAD suites and SHA-2 MACs need TLS 1.2,
     * except the PSK CBC suites (RFC 5487, RFC 5489), which OpenSSL negotiates from TLS 1.0 on.
     */
    public boolean usableWith(TlsVersion version) {
        if (tls13) {
            return version == TlsVersion.TLS13;
        }
        if (version == TlsVersion.TLS13) {
            return false;
        }
        return version == TlsVersion.TLS12 || (!cipher.aead() && (mac == MacAlgorithm.SHA1 || psk()));
    }

    private boolean psk() {
        return keyExchange == KeyExchange.PSK || keyExchange == KeyExchange.DHE_PSK
                || keyExchange == KeyExchange.RSA_PSK || keyExchange == KeyExchange.ECDHE_PSK;
    }

    /** Bytes of IV taken from the key block for each side under {@code version}. */
    public int fixedIvLength(TlsVersion version) {
        if (tls13) {
            return 12;
        }
        if (cipher.aead()) {
            return cipher.fixedIvLength();
        }
        return version == TlsVersion.TLS10 ? cipher.blockSize() : 0;
    }
}

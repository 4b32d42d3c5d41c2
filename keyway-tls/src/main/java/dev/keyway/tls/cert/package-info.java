/**
 * X.509 certificates, PKCS #10 requests and PEM files for TLS: {@link dev.keyway.tls.cert.CertificateKeyType} makes
 * keys, {@link dev.keyway.tls.cert.Certificates} makes certificates and requests, and
 * {@link dev.keyway.tls.cert.Pem} writes and reads them. Validation is the JDK's PKIX; nothing here
 * decides whether to trust a certificate.
 */
package dev.keyway.tls.cert;

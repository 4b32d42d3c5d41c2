package dev.keyway.cli;

import dev.keyway.authority.AuthorityClient;
import dev.keyway.authority.AuthorityHome;
import dev.keyway.core.KeywayException;
import picocli.CommandLine.Option;

import java.net.URI;
import java.nio.file.Path;

/** How a client command reaches the authority: its URL and the certificate to trust (pinned). */
final class AuthorityOptions {
    @Option(names = "--authority", paramLabel = "URL", required = true, description = "The authority, e.g. https://127.0.0.1:8443.")
    String url;

    @Option(names = "--cacert", paramLabel = "FILE", required = true,
            description = "The authority's certificate (tls-cert.pem from its directory): the only one trusted.")
    Path cacert;

    AuthorityClient client() {
        URI uri;
        try {
            uri = URI.create(url.endsWith("/") ? url : url + "/");
        } catch (IllegalArgumentException e) {
            throw KeywayException.usage("--authority '" + url + "' is not a URL", "write it like https://127.0.0.1:8443");
        }
        if (!"https".equals(uri.getScheme())) {
            throw KeywayException.usage("--authority must be an https:// URL", "write it like https://127.0.0.1:8443");
        }
        return new AuthorityClient(uri, AuthorityHome.readCertificate(cacert));
    }
}

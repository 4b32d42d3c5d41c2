package dev.keyway.authority;

/** A request refused with an HTTP status and a one-line reason (the server answers it as a JSON error). */
final class Refusal extends RuntimeException {
    final int status;

    Refusal(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }
}

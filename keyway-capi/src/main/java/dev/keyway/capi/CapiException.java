package dev.keyway.capi;

import dev.keyway.core.KeywayException;

/** A refusal the way Windows would refuse it: the message starts with the Windows error name. */
public final class CapiException extends KeywayException {
    private final CapiError error;

    public CapiException(CapiError error, String message, String hint) {
        super(error.code(), error.label() + ": " + message, hint);
        this.error = error;
    }

    public CapiError error() {
        return error;
    }
}

package dev.keyway.core.keys;

import javax.security.auth.Destroyable;
import java.util.Arrays;

/**
 * What every holder of secret bytes shares ({@link SessionKey}, {@code Identity}, {@code TrafficKeys},
 * {@code KeyBlock12}, {@code CapiKey}): it owns its byte arrays, {@link #destroy()} zeroes all of them,
 * every use after that is refused with {@link DestroyedException}, and {@link #toString()} is the class name
 * and {@link #describe()}, which names what the secret is for and never its bytes.
 */
public abstract class Secret implements Destroyable {
    private final byte[][] parts;
    private volatile boolean destroyed;

    /** @param parts the arrays this secret owns (not copied: the subclass hands over arrays no one else holds) */
    protected Secret(byte[]... parts) {
        this.parts = parts.clone();
    }

    /** Refuses use after {@link #destroy()}. */
    protected final void checkAlive() {
        if (destroyed) {
            throw new DestroyedException(getClass().getSimpleName() + " was destroyed");
        }
    }

    /** A copy of one of this secret's arrays, refused after {@link #destroy()}; the caller zeroes it when done. */
    protected final byte[] copy(byte[] part) {
        checkAlive();
        return part.clone();
    }

    /** Zeroes every array this secret owns. Idempotent. */
    @Override
    public final void destroy() {
        for (byte[] part : parts) {
            Arrays.fill(part, (byte) 0);
        }
        destroyed = true;
    }

    @Override
    public final boolean isDestroyed() {
        return destroyed;
    }

    /** What the secret is for (algorithm, length, suite): shown by {@link #toString()}, so never key bytes. */
    protected abstract String describe();

    @Override
    public final String toString() {
        return getClass().getSimpleName() + "[" + describe() + "]";
    }

    /** A secret used after it was destroyed: a bug in the caller, not something a user can cause. */
    public static final class DestroyedException extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        DestroyedException(String message) {
            super(message);
        }
    }
}

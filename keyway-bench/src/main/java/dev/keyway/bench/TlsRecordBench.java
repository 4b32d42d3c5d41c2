package dev.keyway.bench;

import dev.keyway.core.kdf.CipherSuite;
import dev.keyway.core.kdf.CipherSuites;
import dev.keyway.tls.record.RecordLayer;
import dev.keyway.tls.record.RecordProtection13;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;

/**
 * One full TLS 1.3 record (16 KiB of application data, TLS_AES_128_GCM_SHA256) sealed and opened by
 * Keyway's record layer in memory, next to the bare JDK cipher doing the same AEAD work (init with the
 * per-record nonce, the header as AAD, doFinal into a reused buffer). The difference is what the record
 * layer costs on top of AES-GCM: copies, allocations, framing. No sockets: {@code TlsBench} measures those.
 *
 * <pre>
 * bench/jmh -f 1 -wi 3 -w 2s -i 5 -r 2s TlsRecordBench
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class TlsRecordBench {
    private static final int RECORD = RecordLayer.MAX_FRAGMENT;
    private static final int PREPARED = 2048;

    private final CipherSuite suite = CipherSuites.byCode(0x1301);
    private final byte[] key = new byte[16];
    private final byte[] iv = new byte[12];
    private final byte[] data = new byte[RECORD];

    private RecordLayer writer;
    private byte[] wire;
    private RecordLayer reader;
    private int read;

    private Cipher cipher;
    private SecretKeySpec aesKey;
    private final byte[] inner = new byte[RECORD + 1];
    private final byte[] sealed = new byte[RECORD + 1 + 16];
    private final byte[] header = {23, 3, 3, (byte) ((RECORD + 17) >> 8), (byte) (RECORD + 17)};
    private long seq;

    @Setup(Level.Trial)
    public void setup() throws IOException, GeneralSecurityException {
        SecureRandom r = new SecureRandom();
        r.nextBytes(key);
        r.nextBytes(iv);
        r.nextBytes(data);
        writer = new RecordLayer();
        writer.setWriteProtection(new RecordProtection13(suite.cipher(), key.clone(), iv));
        ByteArrayOutputStream out = new ByteArrayOutputStream(PREPARED * (RECORD + 22));
        RecordLayer w = new RecordLayer();
        w.setWriteProtection(new RecordProtection13(suite.cipher(), key.clone(), iv));
        for (int i = 0; i < PREPARED; i++) {
            w.write(RecordLayer.APPLICATION_DATA, data);
            RecordLayer.Output o = w.swapOutput();
            out.write(o.bytes(), o.offset(), o.length());
        }
        wire = out.toByteArray();
        newReader();
        cipher = Cipher.getInstance("AES/GCM/NoPadding");
        aesKey = new SecretKeySpec(key, "AES");
        System.arraycopy(data, 0, inner, 0, RECORD);
        inner[RECORD] = RecordLayer.APPLICATION_DATA;
    }

    private void newReader() {
        reader = new RecordLayer();
        reader.receive(wire, 0, wire.length);
        reader.setReadProtection(new RecordProtection13(suite.cipher(), key.clone(), iv));
        reader.handshakeDone();
        read = 0;
    }

    /** What {@code TlsConnection}'s output stream does per 16 KiB write: the record layer seals into its queue, the socket takes it. */
    @Benchmark
    public int keywaySeal() {
        writer.write(RecordLayer.APPLICATION_DATA, data, 0, RECORD);
        RecordLayer.Output o = writer.swapOutput();
        writer.recycle(o.bytes());
        return o.length();
    }

    /** One record opened by the record layer (a fresh reader every 2,048 records: the sequence numbers). */
    @Benchmark
    public RecordLayer.Record keywayOpen() throws IOException {
        if (read == PREPARED) {
            newReader();
        }
        read++;
        return reader.next();
    }

    /** The same AEAD work with the bare JDK cipher and no copies. */
    @Benchmark
    public int jceSeal() throws GeneralSecurityException {
        byte[] nonce = iv.clone();
        long s = seq++;
        for (int i = 0; i < 8; i++) {
            nonce[11 - i] ^= (byte) (s >>> (8 * i));
        }
        cipher.init(Cipher.ENCRYPT_MODE, aesKey, new GCMParameterSpec(128, nonce));
        cipher.updateAAD(header);
        return cipher.doFinal(inner, 0, inner.length, sealed, 0);
    }
}

package dev.keyway.core.blob;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import dev.keyway.core.identity.Identity;
import dev.keyway.core.identity.KeyType;
import dev.keyway.core.keys.Algorithms;
import dev.keyway.core.keys.SessionKey;
import dev.keyway.core.keys.SessionKeys;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KeyWrapRoundTripTest {

    @ParameterizedTest
    @EnumSource(KeyType.class)
    void wrapsAndUnwrapsForEveryType(KeyType type) {
        try (Identity alice = Identity.generate(type); Identity bob = Identity.generate(type);
             SessionKey key = SessionKeys.generate(Algorithms.AES_256_GCM)) {
            KeyBlob blob = KeyWrap.wrap(key, alice.recipient());
            KeyBlob parsed = KeyBlob.parse(blob.armor().getBytes());
            try (SessionKey back = KeyWrap.unwrap(parsed, alice)) {
                assertThat(back.sameKeyAs(key)).isTrue();
            }
            assertThatThrownBy(() -> KeyWrap.unwrap(parsed, bob))
                    .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.AUTH_FAILED))
                    .hasMessageContaining("not wrapped for this identity");
        }
    }
}

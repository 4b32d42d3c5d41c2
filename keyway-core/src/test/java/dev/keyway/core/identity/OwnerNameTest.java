package dev.keyway.core.identity;

import dev.keyway.core.ErrorCode;
import dev.keyway.core.KeywayException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class OwnerNameTest {
    @Test
    void spellingsOfOneNameNormalizeAlike() {
        assertThat(OwnerName.normalize("alice")).isEqualTo("alice");
        assertThat(OwnerName.normalize("\uff41\uff4c\uff49\uff43\uff45")).isEqualTo("alice");   // fullwidth
        assertThat(OwnerName.normalize("  alice \u3000")).isEqualTo("alice");                  // trimmed, ideographic space
        assertThat(OwnerName.normalize("alice\u00a0 \u2003 smith")).isEqualTo("alice smith");
        assertThat(OwnerName.normalize("Jose\u0301")).isEqualTo("Jos\u00e9");                   // combining accent composed
        assertThat(OwnerName.normalize("\u0430lice")).isNotEqualTo("alice");                    // Cyrillic a: another name
        assertThat(OwnerName.isNormalized("alice")).isTrue();
        assertThat(OwnerName.isNormalized("alice ")).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "ali\u0000ce", "ali\nce", "ali\tce", "ali\u202ece", "ali\u200bce", "ali\ud800ce", "\ue000"})
    void refusesEmptyControlFormatAndBrokenNames(String name) {
        assertThatThrownBy(() -> OwnerName.normalize(name))
                .isInstanceOfSatisfying(KeywayException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.USAGE));
    }

    @Test
    void boundsTheLength() {
        assertThat(OwnerName.normalize("a".repeat(128))).hasSize(128);
        assertThatThrownBy(() -> OwnerName.normalize("a".repeat(129))).isInstanceOf(KeywayException.class);
        // 128 characters outside the BMP are 512 UTF-8 bytes: the most a format must hold.
        assertThat(OwnerName.utf8(OwnerName.normalize("\ud840\udc00".repeat(128)))).hasSize(OwnerName.MAX_BYTES);
    }
}

package io.switchboard.properties;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.switchboard.auth.DevTokens;
import io.switchboard.auth.TokenVerifier;
import io.switchboard.protocol.Limits;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * User ids: which are accepted (found by this property: ids with a lone surrogate were accepted, and
 * came out of a token as another id), and that a token carries any accepted one through unchanged.
 */
class UserIdProperties {
  private static final String SECRET = "properties-secret-properties-secret-0123";
  private static final TokenVerifier VERIFIER = new TokenVerifier(SECRET, Duration.ofSeconds(5));

  @Provide
  Arbitrary<String> anyString() {
    return Arbitraries.oneOf(
        Arbitraries.strings().all().ofMaxLength(300),
        Arbitraries.strings().withChars("/.%\\?#&=+ \u0000\u001f\u007f\u0085é𝄞").ofMaxLength(20),
        Arbitraries.of(".", "..", "...", "./", "%2E%2E"),
        Arbitraries.strings().alpha().ofLength(257));
  }

  @Property(tries = 500)
  void anIdIsAcceptedExactlyWhenNonEmptyShortValidUnicodeAndFreeOfControlCharacters(@ForAll("anyString") String id) {
    boolean expected = !id.isEmpty() && id.length() <= Limits.MAX_USER_ID_LENGTH
        && id.chars().noneMatch(Character::isISOControl)
        && !id.equals(".") && !id.equals("..")
        && id.equals(new String(id.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8));
    assertEquals(expected, Limits.userIdProblem(id).isEmpty(), "id " + id.codePoints().boxed().toList());
  }

  @Property(tries = 300)
  void aTokenForAnAcceptedIdVerifiesToExactlyThatId(@ForAll("anyString") String id) {
    if (Limits.userIdProblem(id).isPresent()) {
      return;
    }
    TokenVerifier.Result result = VERIFIER.verify(DevTokens.sign(SECRET, id, Duration.ofMinutes(5)));
    assertEquals(id, ((TokenVerifier.Verified) result).user().id());
  }
}

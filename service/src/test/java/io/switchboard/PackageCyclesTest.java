package io.switchboard;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import io.switchboard.cyclefixture.left.Left;
import io.switchboard.cyclefixture.right.Right;
import org.junit.jupiter.api.Test;

/**
 * The build's check that no two packages of {@code io.switchboard.*} (the root package included, and
 * the protocol module's) depend on each other in a circle, directly or through others.
 */
class PackageCyclesTest {

  /** Each package is a slice of its own (a subpackage is not part of its parent's slice). */
  private static final SliceAssignment EACH_PACKAGE =
      new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
          String name = javaClass.getPackageName();
          return name.equals("io.switchboard") || name.startsWith("io.switchboard.")
              ? SliceIdentifier.of(name)
              : SliceIdentifier.ignore();
        }

        @Override
        public String getDescription() {
          return "the packages of io.switchboard";
        }
      };

  private static final ArchRule NO_CYCLES =
      slices().assignedFrom(EACH_PACKAGE).should().beFreeOfCycles();

  @Test
  void theServicesPackagesHaveNoCycles() {
    JavaClasses main =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("io.switchboard");
    NO_CYCLES.check(main);
  }

  @Test
  void aCycleBetweenTwoPackagesFailsTheCheck() {
    JavaClasses cyclic = new ClassFileImporter().importClasses(Left.class, Right.class);
    assertThrows(AssertionError.class, () -> NO_CYCLES.check(cyclic));
  }
}

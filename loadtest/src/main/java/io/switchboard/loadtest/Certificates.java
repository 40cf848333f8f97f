package io.switchboard.loadtest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** The self-signed certificate both servers use in TLS runs (EC P-256, for 127.0.0.1), made with openssl. */
final class Certificates {
  private Certificates() {}

  static void ensure(Path dir) throws IOException, InterruptedException {
    if (Files.exists(dir.resolve("cert.pem")) && Files.exists(dir.resolve("key.pem"))) {
      return;
    }
    Files.createDirectories(dir);
    Process openssl =
        new ProcessBuilder(
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "30", "-keyout", dir.resolve("key.pem").toString(),
                "-out", dir.resolve("cert.pem").toString(), "-subj", "/CN=loadtest",
                "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.DISCARD)
            .start();
    if (!openssl.waitFor(60, TimeUnit.SECONDS) || openssl.exitValue() != 0) {
      throw new IOException("openssl could not make the TLS certificate in " + dir);
    }
  }
}

package io.switchboard.tls;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.switchboard.Switchboard;
import io.switchboard.config.SwitchboardSettings;
import io.switchboard.support.TestCluster;
import io.switchboard.support.WsClient;
import java.io.OutputStream;
import java.io.Reader;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Map;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The wss listener with an operator's certificate: PEM files or a PKCS#12 keystore. */
class ServerTlsTest {

  @TempDir Path dir;

  /** Starts a node with {@code tls} settings and checks a client trusting {@code cert} gets through. */
  private static void assertServesWss(Map<String, Object> tls, Path cert) {
    try (TestCluster cluster = new TestCluster()) {
      Switchboard node = cluster.startNode(tls);
      cluster.awaitMembersUp(1);
      HttpClient http = HttpClient.newBuilder().sslContext(TestCluster.trusting(cert)).build();
      WsClient client =
          WsClient.connect(http,
              URI.create("wss://localhost:" + node.wssPort() + "/socket?token=" + cluster.token("t")),
              Map.of(), List.of());
      TestCluster.await("t online", () -> cluster.get(node, "/v1/users/t/presence").body()
          .get("online").asBoolean());
      cluster.postJson(node, "/v1/users/t/messages", Map.of("ok", 1));
      assertEquals("{\"ok\":1}", client.nextText());
      client.close();
    }
  }

  @Test
  void aPemCertificateAndKeyFromTheOperatorAreServed() throws Exception {
    Path[] files = DevCertificate.ensure(dir.resolve("operator"));
    assertServesWss(
        Map.of("switchboard.tls.cert-file", files[0].toString(),
            "switchboard.tls.key-file", files[1].toString()),
        files[0]);
  }

  @Test
  void aPkcs12KeystoreIsServed() throws Exception {
    Path[] files = DevCertificate.ensure(dir.resolve("pem"));
    PrivateKey key;
    try (Reader reader = Files.newBufferedReader(files[1]); PEMParser parser = new PEMParser(reader)) {
      key = new JcaPEMKeyConverter().getPrivateKey((PrivateKeyInfo) parser.readObject());
    }
    Certificate cert;
    try (var in = Files.newInputStream(files[0])) {
      cert = CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("switchboard", key, "changeit".toCharArray(), new Certificate[] {cert});
    Path keystore = dir.resolve("server.p12");
    try (OutputStream out = Files.newOutputStream(keystore)) {
      store.store(out, "changeit".toCharArray());
    }
    assertServesWss(
        Map.of("switchboard.tls.keystore-file", keystore.toString(),
            "switchboard.tls.keystore-password", "changeit"),
        files[0]);
  }

  @Test
  void aCertificateWithoutItsKeyIsAClearConfigurationError() {
    IllegalArgumentException error =
        assertThrows(IllegalArgumentException.class,
            () -> ServerTls.context(new SwitchboardSettings.Tls(true, "/some/cert.pem", "", "", "", "")));
    assertTrue(error.getMessage().contains("TLS_CERT_FILE and TLS_KEY_FILE"));
  }
}

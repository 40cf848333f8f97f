package io.switchboard.tls;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.switchboard.config.SwitchboardSettings;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WebSocket listener's TLS context, from (in this order) a PEM certificate and key, a PKCS#12
 * keystore, or the self-signed dev certificate; none when TLS is off.
 */
public final class ServerTls {
  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

  private ServerTls() {}

  /** The context, or null when TLS is off. Throws with a clear message when files are missing or bad. */
  public static SslContext context(SwitchboardSettings.Tls tls) {
    if (!tls.enabled()) {
      log.info("TLS is off: serving plain ws:// (put a TLS-terminating proxy in front)");
      return null;
    }
    try {
      if (!tls.certFile().isEmpty() || !tls.keyFile().isEmpty()) {
        if (tls.certFile().isEmpty() || tls.keyFile().isEmpty()) {
          throw new IllegalArgumentException("TLS_CERT_FILE and TLS_KEY_FILE must be set together");
        }
        log.info("TLS: certificate {} and key {}", tls.certFile(), tls.keyFile());
        return SslContextBuilder.forServer(
                Path.of(tls.certFile()).toFile(), Path.of(tls.keyFile()).toFile())
            .build();
      }
      if (!tls.keystoreFile().isEmpty()) {
        log.info("TLS: PKCS#12 keystore {}", tls.keystoreFile());
        return SslContextBuilder.forServer(keyManagers(tls)).build();
      }
      Path[] dev = DevCertificate.ensure(Path.of(tls.devCertDir()));
      log.warn(
          "TLS: no certificate configured; serving the self-signed DEV certificate {} "
              + "(clients: trust it, e.g. curl --cacert {}). Set TLS_CERT_FILE/TLS_KEY_FILE for real use.",
          dev[0],
          dev[0]);
      return SslContextBuilder.forServer(dev[0].toFile(), dev[1].toFile()).build();
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot set up TLS: " + e.getMessage(), e);
    }
  }

  /**
   * The same certificate as a JDK {@link SSLContext} (for the internal API when {@code API_TLS} is on):
   * the PEM pair, the PKCS#12 keystore, or the dev certificate, as for the WebSocket listener.
   */
  public static SSLContext jdkContext(SwitchboardSettings.Tls tls) {
    try {
      KeyManagerFactory keys;
      if (!tls.certFile().isEmpty() && !tls.keyFile().isEmpty()) {
        keys = pemKeyManagers(Path.of(tls.certFile()), Path.of(tls.keyFile()));
      } else if (!tls.keystoreFile().isEmpty()) {
        keys = keyManagers(tls);
      } else {
        Path[] dev = DevCertificate.ensure(Path.of(tls.devCertDir()));
        keys = pemKeyManagers(dev[0], dev[1]);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keys.getKeyManagers(), null, null);
      return context;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException("cannot set up TLS for the API: " + e.getMessage(), e);
    }
  }

  private static KeyManagerFactory pemKeyManagers(Path certFile, Path keyFile)
      throws IOException, GeneralSecurityException {
    List<X509Certificate> chain = new ArrayList<>();
    try (InputStream in = Files.newInputStream(certFile)) {
      for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        chain.add((X509Certificate) certificate);
      }
    }
    PrivateKey key;
    try (PEMParser parser = new PEMParser(Files.newBufferedReader(keyFile))) {
      Object parsed = parser.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (parsed instanceof PEMKeyPair pair) {
        key = converter.getKeyPair(pair).getPrivate();
      } else if (parsed instanceof PrivateKeyInfo info) {
        key = converter.getPrivateKey(info);
      } else {
        throw new GeneralSecurityException("no private key in " + keyFile);
      }
    }
    char[] password = new char[0];
    KeyStore store = KeyStore.getInstance("PKCS12");
    store.load(null, null);
    store.setKeyEntry("api", key, password, chain.toArray(new Certificate[0]));
    KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    factory.init(store, password);
    return factory;
  }

  private static KeyManagerFactory keyManagers(SwitchboardSettings.Tls tls)
      throws IOException, GeneralSecurityException {
    char[] password = tls.keystorePassword().toCharArray();
    KeyStore store = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(Path.of(tls.keystoreFile()))) {
      store.load(in, password);
    }
    KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    factory.init(store, password);
    return factory;
  }
}

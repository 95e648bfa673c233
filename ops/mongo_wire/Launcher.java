import de.bwaldvogel.mongo.MongoServer;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import java.util.List;

/**
 * Serves mongo-java-server's H2 backend on HOST:PORT until killed.
 *
 * <p>The stock H2MongoServer main cannot set the server version, and every ServerVersion it ships
 * reports wire version 8 at most (even MONGO_5_0), below the 9 (MongoDB 4.4) that PyMongo 4.20
 * requires. So this announces 4.4 / wire 9: the lowest PyMongo accepts, so the driver assumes no
 * newer server feature than it must. In memory unless a file is given: the test lane wants a
 * fresh, fast server, not durability.
 *
 * <p>Usage: java -cp ... Launcher HOST PORT [H2-FILE]
 */
public final class Launcher {
  private static final MongoVersion MONGO_4_4 =
      new MongoVersion() {
        @Override
        public List<Integer> getVersionArray() {
          return List.of(4, 4, 0);
        }

        @Override
        public int getWireVersion() {
          return 9;
        }
      };

  public static void main(String[] args) throws InterruptedException {
    if (args.length < 2) {
      System.err.println("usage: Launcher HOST PORT [H2-FILE]");
      System.exit(2);
    }
    H2Backend backend = args.length > 2 ? new H2Backend(args[2]) : H2Backend.inMemory();
    backend.version(MONGO_4_4);
    MongoServer server = new MongoServer(backend);
    // A SIGTERM from ops/services.sh stop closes the socket and, for a file store, flushes it.
    Runtime.getRuntime().addShutdownHook(new Thread(server::shutdownNow));
    server.bind(args[0], Integer.parseInt(args[1]));
    System.out.println("mongo-java-server listening on " + args[0] + ":" + args[1]);
    Thread.currentThread().join();
  }
}

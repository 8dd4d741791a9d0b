package build.hearth.server;

import build.hearth.core.config.HearthConfig;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Hearth servers configured alike on one Redis (CAS, action cache and the scheduler's state), each
 * with the worker API, as the tests of several servers as one service start them; and the channels
 * the tests open to them. {@link #close()} closes both; a server a test closed itself is closed
 * again harmlessly. The test owns the Redis, which it may stop and start.
 */
final class SharedService implements AutoCloseable {
  private final String redisUri;
  private final List<HearthServer> servers = new ArrayList<>();
  private final List<ManagedChannel> channels = new ArrayList<>();

  SharedService(String redisUri) {
    this.redisUri = redisUri;
  }

  /** Starts one more server, whose workers' registrations last {@code workerLease}. */
  HearthServer start(String workerLease) {
    String json =
        """
        {
          "blobStores": {"cas": {"type": "redis", "uri": "%1$s"}},
          "actionCacheStores": {"ac": {"type": "redis", "uri": "%1$s"}},
          "schedulers": {"main": {
            "properties": {"OSFamily": "exact"},
            "state": {"type": "redis", "uri": "%1$s"},
            "workerLease": "%2$s"
          }},
          "servers": [ {
            "listen": "127.0.0.1:0",
            "workerApi": {"scheduler": "main"},
            "instances": {"": {"cas": "cas", "actionCache": "ac", "execution": {"scheduler": "main"}}}
          } ]
        }
        """
            .formatted(redisUri, workerLease);
    HearthServer server = HearthServer.start(HearthConfig.parse(json, "the test"));
    servers.add(server);
    return server;
  }

  /** A plaintext channel to {@code server}, shut down by {@link #close()}. */
  ManagedChannel channel(HearthServer server) {
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    channels.add(channel);
    return channel;
  }

  @Override
  public void close() throws InterruptedException {
    for (ManagedChannel channel : channels) {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
    for (HearthServer server : servers) {
      server.close();
    }
  }
}

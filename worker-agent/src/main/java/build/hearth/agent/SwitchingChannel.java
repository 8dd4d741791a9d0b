package build.hearth.agent;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.MethodDescriptor;

/**
 * A channel that sends each new call to the server the worker is attached to now: the remote CAS is
 * made once per instance and outlives the streams, while the agent moves between the servers of a
 * service. Calls already started stay on their server.
 *
 * <p>Thread-safe.
 */
final class SwitchingChannel extends Channel {
  private volatile Channel current;

  /** Sends the calls made from now on through {@code channel}. */
  void use(Channel channel) {
    current = channel;
  }

  @Override
  public <Q, A> ClientCall<Q, A> newCall(MethodDescriptor<Q, A> method, CallOptions options) {
    return current.newCall(method, options);
  }

  @Override
  public String authority() {
    return current.authority();
  }
}

package build.hearth.grpc;

import io.grpc.ForwardingServerCallListener.SimpleForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.MethodDescriptor.PrototypeMarshaller;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.io.InputStream;

/**
 * Answers a request that does not parse as its message type with INVALID_ARGUMENT, as every other
 * bad input is answered, rather than grpc-java's UNKNOWN "Application error processing RPC".
 *
 * <p>grpc-java parses a request and hands it to the call's listener in one step, and turns anything
 * the parser throws into UNKNOWN before an interceptor sees it. So each service's request
 * marshallers are wrapped ({@link #lenient}): a parse failure is noted for the current thread and
 * the message type's empty prototype is passed on instead; this class, as the outermost
 * interceptor, receives that message next on the same thread, finds the note and closes the call
 * with INVALID_ARGUMENT, so no service ever sees the stand-in. Marshallers that are not protobuf
 * prototypes (ByteStream's zero-copy Write) parse leniently themselves and are left alone.
 *
 * <p>One instance per transport; the note is per thread and consumed at once.
 */
final class MalformedRequests implements ServerInterceptor {
  private final ThreadLocal<RuntimeException> parseFailure = new ThreadLocal<>();

  /** {@return {@code service} with every protobuf request marshaller made lenient} */
  ServerServiceDefinition lenient(ServerServiceDefinition service) {
    ServerServiceDefinition.Builder builder =
        ServerServiceDefinition.builder(service.getServiceDescriptor().getName());
    for (ServerMethodDefinition<?, ?> method : service.getMethods()) {
      builder.addMethod(lenient(method));
    }
    return builder.build();
  }

  private <Q, R> ServerMethodDefinition<Q, R> lenient(ServerMethodDefinition<Q, R> method) {
    MethodDescriptor<Q, R> descriptor = method.getMethodDescriptor();
    if (!(descriptor.getRequestMarshaller() instanceof PrototypeMarshaller<Q> proto)) {
      return method;
    }
    return ServerMethodDefinition.create(
        descriptor.toBuilder().setRequestMarshaller(new Lenient<>(proto)).build(),
        method.getServerCallHandler());
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    return new SimpleForwardingServerCallListener<>(next.startCall(call, headers)) {
      /** Set once this listener closed the call; the service hears only of its end. */
      private boolean refused;

      @Override
      public void onMessage(Q message) {
        RuntimeException failure = parseFailure.get();
        if (failure != null) {
          parseFailure.remove();
          if (!refused) {
            refused = true;
            call.close(
                Status.INVALID_ARGUMENT.withDescription(
                    "the request is not a valid "
                        + call.getMethodDescriptor().getFullMethodName()
                        + " request message: "
                        + describe(failure)),
                new Metadata());
          }
          return;
        }
        if (!refused) {
          super.onMessage(message);
        }
      }

      @Override
      public void onHalfClose() {
        if (!refused) {
          super.onHalfClose();
        }
      }
    };
  }

  private static String describe(RuntimeException failure) {
    Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
    String message = cause.getMessage();
    return message == null || message.isBlank() ? "it does not parse" : message;
  }

  /** Parses as the original does; a failure is noted and stood in for by the empty prototype. */
  private final class Lenient<Q> implements PrototypeMarshaller<Q> {
    private final PrototypeMarshaller<Q> delegate;

    Lenient(PrototypeMarshaller<Q> delegate) {
      this.delegate = delegate;
    }

    @Override
    public Q getMessagePrototype() {
      return delegate.getMessagePrototype();
    }

    @Override
    public Class<Q> getMessageClass() {
      return delegate.getMessageClass();
    }

    @Override
    public InputStream stream(Q value) {
      return delegate.stream(value);
    }

    @Override
    public Q parse(InputStream stream) {
      try {
        return delegate.parse(stream);
      } catch (RuntimeException e) {
        parseFailure.set(e);
        return delegate.getMessagePrototype();
      }
    }
  }
}

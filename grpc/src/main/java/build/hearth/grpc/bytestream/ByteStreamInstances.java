package build.hearth.grpc.bytestream;

import build.hearth.api.HearthException;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import java.util.Optional;

/**
 * The instance a ByteStream request is for, parsed from its resource name exactly as the service
 * parses it, so that the access check and the service never disagree about the instance. For the
 * access interceptor. Stateless.
 */
public final class ByteStreamInstances {
  private ByteStreamInstances() {}

  /**
   * {@return the instance of a ByteStream request message ({@code ReadRequest}, {@code
   * QueryWriteStatusRequest}, the first {@code WriteRequest} of a Write, also as the service
   * receives it), or empty if {@code request} is none of them}
   *
   * @param request a request message of any service
   * @throws HearthException INVALID_ARGUMENT (or UNIMPLEMENTED) for a malformed resource name, as
   *     the service would answer it
   */
  public static Optional<String> of(Object request) {
    if (request instanceof ReadRequest read) {
      return Optional.of(ResourceName.parseRead(read.getResourceName()).instance());
    }
    if (request instanceof QueryWriteStatusRequest query) {
      return Optional.of(ResourceName.parseWrite(query.getResourceName()).instance());
    }
    if (request instanceof WriteRequest write) {
      return Optional.of(ResourceName.parseWrite(write.getResourceName()).instance());
    }
    if (request instanceof InboundWrite inbound) {
      if (inbound.malformed() != null) {
        throw HearthException.invalidArgument("%s", inbound.malformed());
      }
      return Optional.of(ResourceName.parseWrite(inbound.request().getResourceName()).instance());
    }
    return Optional.empty();
  }
}

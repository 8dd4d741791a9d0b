package build.hearth.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import build.hearth.api.Digest;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreStats;
import java.io.InputStream;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * The suites fail stores that break the contract, each in one way, and name the test that shows it.
 * The broken suites are static nested classes, which surefire and JUnit do not run on their own;
 * only this test runs them, through the JUnit test kit.
 */
class ContractCatchesBrokenStoresTest {

  @Test
  void anUploadVisibleBeforeCommit() {
    assertThat(failedTests(VisibleBeforeCommit.class)).contains("uncommittedUploadIsInvisible()");
  }

  @Test
  void aCommitThatDoesNotCheckTheLength() {
    assertThat(failedTests(LengthUnchecked.class))
        .contains("commitWithTooFewBytesIsRefused()", "commitWithTooManyBytesIsRefused()");
  }

  @Test
  void aReadThatIgnoresTheOffset() {
    assertThat(failedTests(OffsetIgnored.class)).contains("readsStartAtTheOffset()");
  }

  @Test
  void statisticsThatForgetEvictions() {
    assertThat(failedTests(EvictionsUncounted.class))
        .contains("evictionKeepsTheStoreWithinCapacity()", "leastRecentlyUsedBlobIsEvictedFirst()");
  }

  @Test
  void anActionCacheThatKeepsTheCallersArray() {
    assertThat(failedTests(AliasingActionCache.class)).contains("storeKeepsItsOwnCopy()");
  }

  @Test
  void aStoreThatCommitsAfterItsClose() {
    assertThat(failedTests(CommitsAfterClose.class))
        .contains("writesAndCommitsAfterCloseAreRefused()");
  }

  @Test
  void anActionCacheThatPutsAfterItsClose() {
    assertThat(failedTests(PutsAfterClose.class)).contains("putsAfterCloseAreRefused()");
  }

  @Test
  void theReferenceStoresFailNothing() {
    assertThat(failedTests(Reference.class)).isEmpty();
  }

  private static List<String> failedTests(Class<?> suite) {
    return EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(suite))
        .execute()
        .testEvents()
        .failed()
        .map(event -> event.getTestDescriptor().getDisplayName())
        .toList();
  }

  static class Reference extends BlobStoreContractTest {
    @Override
    protected BlobStore newStore(long capacityBytes) {
      return new ReferenceBlobStore(capacityBytes);
    }

    @Override
    protected boolean supportsBlobsLargerThanHeap() {
      return false;
    }
  }

  /** Claims to contain a blob as soon as its upload starts. */
  static class VisibleBeforeCommit extends Reference {
    @Override
    protected BlobStore newStore(long capacityBytes) {
      Set<Digest> uploading = ConcurrentHashMap.newKeySet();
      return new ForwardingBlobStore(super.newStore(capacityBytes)) {
        @Override
        public boolean contains(Digest digest) {
          return uploading.contains(digest) || super.contains(digest);
        }

        @Override
        public Upload startUpload(Digest digest) {
          uploading.add(digest);
          return super.startUpload(digest);
        }
      };
    }
  }

  /** Pads or cuts an upload to the digest's size instead of refusing it. */
  static class LengthUnchecked extends Reference {
    @Override
    protected BlobStore newStore(long capacityBytes) {
      return new ForwardingBlobStore(super.newStore(capacityBytes)) {
        @Override
        public Upload startUpload(Digest digest) {
          Upload real = super.startUpload(digest);
          return new Upload() {
            @Override
            public void write(byte[] data, int offset, int length) {
              int keep = (int) Math.max(0, Math.min(length, digest.sizeBytes() - real.written()));
              real.write(data, offset, keep);
            }

            @Override
            public long written() {
              return real.written();
            }

            @Override
            public void commit() {
              int missing = (int) (digest.sizeBytes() - real.written());
              real.write(new byte[missing], 0, missing);
              real.commit();
            }

            @Override
            public void close() {
              real.close();
            }
          };
        }
      };
    }
  }

  /** Reads every blob from its start. */
  static class OffsetIgnored extends Reference {
    @Override
    protected BlobStore newStore(long capacityBytes) {
      return new ForwardingBlobStore(super.newStore(capacityBytes)) {
        @Override
        public Optional<InputStream> read(Digest digest, long offset) {
          return super.read(digest, 0);
        }
      };
    }
  }

  /** Reports evicted bytes as if they were still held. */
  static class EvictionsUncounted extends Reference {
    @Override
    protected BlobStore newStore(long capacityBytes) {
      return new ForwardingBlobStore(super.newStore(capacityBytes)) {
        @Override
        public StoreStats stats() {
          StoreStats real = super.stats();
          return new StoreStats(
              real.entries(), real.sizeBytes() + real.evictedBytes(), real.capacityBytes(), 0, 0);
        }
      };
    }
  }

  /** Keeps and hands out the very arrays it is given. */
  static class AliasingActionCache extends ActionCacheStoreContractTest {
    @Override
    protected ActionCacheStore newStore(long capacityBytes) {
      ReferenceActionCacheStore real = new ReferenceActionCacheStore(capacityBytes);
      Map<Digest, byte[]> arrays = new HashMap<>();
      return new ActionCacheStore() {
        @Override
        public synchronized Optional<byte[]> get(Digest actionDigest) {
          return real.get(actionDigest).map(copy -> arrays.get(actionDigest));
        }

        @Override
        public synchronized void put(Digest actionDigest, byte[] entry) {
          real.put(actionDigest, entry);
          arrays.put(actionDigest, entry);
        }

        @Override
        public synchronized void remove(Digest actionDigest) {
          real.remove(actionDigest);
          arrays.remove(actionDigest);
        }

        @Override
        public StoreStats stats() {
          return real.stats();
        }

        @Override
        public void close() {}
      };
    }
  }

  /**
   * Lets an upload started before the close commit after it, and a persistent store would then show
   * the blob after reopening; this one keeps its blobs across "reopens" to be that store.
   */
  static class CommitsAfterClose extends Reference {
    private ReferenceBlobStore kept;

    @Override
    protected BlobStore newStore(long capacityBytes) {
      kept = new ReferenceBlobStore(capacityBytes);
      return forgetful(kept);
    }

    @Override
    protected BlobStore reopen(long capacityBytes) {
      return forgetful(kept);
    }

    private static BlobStore forgetful(ReferenceBlobStore store) {
      return new ForwardingBlobStore(store) {
        @Override
        public void close() {
          // Never tells the store: uploads and commits keep working.
        }
      };
    }
  }

  /** Takes puts after its close, into the data a reopen shows. */
  static class PutsAfterClose extends ActionCacheStoreContractTest {
    private ReferenceActionCacheStore kept;

    @Override
    protected ActionCacheStore newStore(long capacityBytes) {
      kept = new ReferenceActionCacheStore(capacityBytes);
      return ignoringClose(kept);
    }

    @Override
    protected ActionCacheStore reopen(long capacityBytes) {
      return ignoringClose(kept);
    }

    private static ActionCacheStore ignoringClose(ReferenceActionCacheStore real) {
      return new ActionCacheStore() {
        @Override
        public Optional<byte[]> get(Digest actionDigest) {
          return real.get(actionDigest);
        }

        @Override
        public void put(Digest actionDigest, byte[] entry) {
          real.put(actionDigest, entry);
        }

        @Override
        public void remove(Digest actionDigest) {
          real.remove(actionDigest);
        }

        @Override
        public StoreStats stats() {
          return real.stats();
        }

        @Override
        public void close() {}
      };
    }
  }

  /** Passes every call to another store; the broken stores override what they break. */
  private static class ForwardingBlobStore implements BlobStore {
    private final BlobStore delegate;

    ForwardingBlobStore(BlobStore delegate) {
      this.delegate = delegate;
    }

    @Override
    public boolean contains(Digest digest) {
      return delegate.contains(digest);
    }

    @Override
    public Set<Digest> findMissing(Collection<Digest> digests) {
      return delegate.findMissing(digests);
    }

    @Override
    public Optional<InputStream> read(Digest digest, long offset) {
      return delegate.read(digest, offset);
    }

    @Override
    public Upload startUpload(Digest digest) {
      return delegate.startUpload(digest);
    }

    @Override
    public StoreStats stats() {
      return delegate.stats();
    }

    @Override
    public void close() {
      delegate.close();
    }
  }
}

//! The buffer timeout (Flink's `execution.buffer-timeout`) in virtual time:
//! on a turmoil host, a record in a partly filled output buffer is held
//! while the task flushes only full buffers between batches, and goes out
//! once 100 ms of virtual time have passed.

use runtime::events::{HostCtx, NoEvents, TokioClock};
use runtime::graph::{JobId, Partitioner};
use runtime::ids::ResourceId;
use runtime::net::TcpNetwork;
use runtime::operators::Value;
use runtime::rng::SeededRng;
use runtime::rpc::{ChannelKey, ExecutionAttemptId, Location, ResultPartitionDescriptor};
use runtime::taskmanager::network::NetworkEnvironment;
use runtime::taskmanager::network::record_writer::RecordWriterDelegate;
use runtime::taskmanager::network::result_partition::BufferLimits;
use std::sync::Arc;
use std::time::Duration;

const ADDR: &str = "tm-a:6121";

/// One "batch" of work elsewhere takes 10 ms; after each the task flushes
/// what is due (full buffers, and partly filled ones past the timeout).
async fn slow_stream() -> turmoil::Result {
    let ctx = HostCtx {
        host: "tm-a".into(),
        net: Arc::new(TcpNetwork::insecure()),
        events: Arc::new(NoEvents),
        clock: Arc::new(TokioClock::start()),
        seed: 7,
    };
    let net = NetworkEnvironment::new(ctx.clone(), ADDR.into(), 4);
    let here = Location {
        resource_id: ResourceId::new("tm-a"),
        data_addr: ADDR.into(),
    };
    let attempt = ExecutionAttemptId {
        job: JobId(1),
        vertex: 0,
        subtask: 0,
        attempt: 0,
    };
    let out = ResultPartitionDescriptor {
        edge: 0,
        partitioner: Partitioner::Forward,
        consumer_parallelism: 1,
        channels: vec![(0, here.clone())],
    };
    // 256 records per buffer, a 100 ms buffer timeout.
    let limits = BufferLimits {
        records: 256,
        bytes: 32 * 1024,
    };
    let mut w = RecordWriterDelegate::new(attempt, &[out], &net, SeededRng::new(1), limits, 100);
    let key = ChannelKey {
        job: JobId(1),
        attempt: 0,
        edge: 0,
        from: 0,
        to: 0,
    };
    let mut input = net.input_channel(key, &here).await?;
    let mut backpressured = 0;
    w.write(0, Value::Int(42));
    let start = tokio::time::Instant::now();
    let mut arrived = None;
    for _ in 0..30 {
        w.flush(false, &ctx, &mut backpressured).await?;
        if let Ok(buffer) = input.try_recv() {
            arrived = Some((start.elapsed(), buffer));
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (at, buffer) = arrived.ok_or("the buffer never left")?;
    assert!(
        at >= Duration::from_millis(100) && at < Duration::from_millis(110),
        "sent after {at:?} of virtual time, want the 100 ms timeout"
    );
    assert_eq!(
        buffer.len(),
        1,
        "the partly filled buffer, with its one record"
    );
    assert!(!w.has_pending());
    Ok(())
}

#[test]
fn buffer_timeout_flushes_a_slow_stream_in_virtual_time() {
    let mut sim = turmoil::Builder::new().build();
    sim.client("tm-a", slow_stream());
    sim.run().expect("the simulated host");
}

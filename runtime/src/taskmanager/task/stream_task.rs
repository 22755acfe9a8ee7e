//! The stream task: one subtask's loop over its input (or its source), its
//! operator chain and its outputs.
//!
//! Flink's `StreamTask` (`OneInputStreamTask`, `SourceStreamTask`) is the
//! invokable a `Task` runs: a mailbox loop that takes the next input,
//! pushes it through the `OperatorChain`, and between records handles
//! checkpoint barriers (through its `CheckpointBarrierHandler`) and
//! triggers; its `SubtaskCheckpointCoordinator` takes the snapshot,
//! forwards the barrier and acknowledges. [`StreamTask`] is that loop here,
//! built from the deployment's channels and run on one tokio task.
//!
//! Timing words used in metrics, as Flink uses them: *back-pressured* is
//! time spent waiting for room in an output channel; *idle* is time spent
//! waiting for input.
//!
//! - **In**: the [`TaskDeploymentDescriptor`], buffers from the
//!   [`InputGate`] (or records from the [`SourceSplit`]), checkpoint
//!   triggers ([`TaskControl`]).
//! - **Out**: buffers through the [`RecordWriterDelegate`], reports
//!   ([`TaskReport`]: state, metrics, collected records, checkpoint
//!   acknowledgements) and metric events.

use super::barrier_handler::{AlignedBarrier, CheckpointBarrierHandler, UnalignedBarrier};
use super::environment::{TaskContext, TaskControl, TaskReport};
use super::metrics::Metrics;
use super::operator_chain::OperatorChain;
use super::sink::pre_commit;
use super::source::SourceSplit;
use crate::events::{HostCtx, TaskCounters};
use crate::graph::{NodeIdx, Partitioner};
use crate::ids::CheckpointId;
use crate::jobmanager::checkpoint::snapshot::TaskSnapshot;
use crate::operators::{KeySelector, KindClass, Value};
use crate::rng::SeededRng;
use crate::rpc::{
    ChannelKey, CheckpointBarrier, ExecutionAttemptId, FromTaskManager, StreamElement,
    TaskDeploymentDescriptor, Txn,
};
use crate::state::ExecutionState;
use crate::taskmanager::network::ChannelError;
use crate::taskmanager::network::input_gate::{Elements, GateChannel, GateEvent, InputGate};
use crate::taskmanager::network::record_writer::RecordWriterDelegate;
use crate::taskmanager::network::result_partition::BufferLimits;
use tokio::sync::mpsc;

/// Why a task failed; the text is the failure cause the JobMaster sees.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    /// The deployment names a vertex the job graph lacks.
    #[error("no vertex {0} in the job graph")]
    NoVertex(u32),
    /// An input channel's producer TaskManager cannot be reached.
    #[error("cannot reach the producer on {resource_id}: {source}")]
    ProducerUnreachable {
        /// The producer's TaskManager.
        resource_id: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The state to restore does not decode.
    #[error("the checkpointed state is corrupt")]
    CorruptState,
    /// A channel broke.
    #[error(transparent)]
    Channel(#[from] ChannelError),
}

/// A running task: its chain, its record writers and its input gate.
pub struct StreamTask {
    ctx: HostCtx,
    attempt: ExecutionAttemptId,
    reports: mpsc::UnboundedSender<TaskReport>,
    writers: RecordWriterDelegate,
    gate: InputGate,
    chain: OperatorChain,
    barriers: CheckpointBarrierHandler,
    /// The task's counters so far.
    pub counters: TaskCounters,
    metrics: Metrics,
    checkpointing: bool,
    /// A source's next offset, as of the last checkpoint trigger.
    source_offset: Option<u64>,
    /// The records of the source batch or buffer at hand, handed through
    /// the chain together (see [`super::stream_operator::Batch`]).
    batch: Vec<Value>,
}

impl StreamTask {
    /// Opens the task's channels, builds its chain and restores its state;
    /// every input channel opened is recorded in `input_keys` (to be
    /// released however the task ends).
    pub async fn setup(
        tdd: &TaskDeploymentDescriptor,
        tc: &TaskContext,
        input_keys: &mut Vec<ChannelKey>,
    ) -> Result<StreamTask, TaskError> {
        let jg = &tdd.job_graph;
        let g = &jg.stream_graph;
        let attempt = tdd.attempt;
        let vertex = jg
            .get_vertex(attempt.vertex as usize)
            .ok_or(TaskError::NoVertex(attempt.vertex))?;
        let ctx = tc.ctx.clone();
        let seed = ctx.seed
            ^ (u64::from(attempt.vertex) << 32)
            ^ u64::from(attempt.subtask)
            ^ (u64::from(attempt.attempt) << 48);
        // Outputs: one record writer per job edge leaving the vertex.
        let writer_source: Vec<NodeIdx> = tdd
            .outputs
            .iter()
            .map(|out| jg.edge(out.edge as usize).source_operator)
            .collect();
        let mut writers = RecordWriterDelegate::new(
            attempt,
            &tdd.outputs,
            &tc.net,
            SeededRng::new(seed),
            BufferLimits {
                records: tc.cfg.buffer_records.max(1),
                bytes: tc.cfg.buffer_bytes,
            },
            tc.cfg.buffer_timeout_ms,
        );
        // Inputs: one gate over every channel of every input edge.
        let mut gate = InputGate::default();
        for input in &tdd.inputs {
            for (from, loc) in &input.channels {
                let key = ChannelKey {
                    job: attempt.job,
                    attempt: attempt.attempt,
                    edge: input.edge,
                    from: *from,
                    to: attempt.subtask,
                };
                let channel = tc.net.input_channel(key, loc).await.map_err(|source| {
                    TaskError::ProducerUnreachable {
                        resource_id: loc.resource_id.to_string(),
                        source,
                    }
                })?;
                input_keys.push(key);
                gate.channels.push(GateChannel::new(key, channel));
            }
        }
        // The chain: a keyed head keys by its input edge's key selector.
        let key = tdd
            .inputs
            .first()
            .and_then(|i| match jg.edge(i.edge as usize).partitioner {
                Partitioner::Hash(k) => Some(k),
                _ => None,
            })
            .unwrap_or(KeySelector::Value);
        let print = tc
            .cfg
            .print_to_stdout
            .then(|| format!("{}", attempt.subtask + 1));
        let mut chain = OperatorChain::new(jg, vertex, &writer_source, key, print);
        let mut source_offset = None;
        let mut replay_input = Vec::new();
        if let Some(bytes) = &tdd.restore {
            let snap = TaskSnapshot::decode(bytes).ok_or(TaskError::CorruptState)?;
            source_offset = chain.restore(&snap);
            // Unaligned checkpoints: first what the barrier overtook on the
            // way out, to the same channels, then what was in flight on the
            // way in.
            for (edge, to, records) in snap.output_channel_state {
                writers.restore_in_flight(edge, to, records);
            }
            replay_input = snap.input_channel_state;
        }
        let now = ctx.now_ms();
        let mut task = StreamTask {
            metrics: Metrics::new(vertex.name.clone(), now, tc.cfg.metrics_interval_ms),
            ctx,
            attempt,
            reports: tc.reports.clone(),
            writers,
            gate,
            chain,
            barriers: CheckpointBarrierHandler::new(g.checkpoint_mode),
            counters: TaskCounters::default(),
            checkpointing: g.checkpoint_interval_ms.is_some(),
            source_offset,
            batch: Vec::new(),
        };
        let now = task.ctx.now_ms();
        for v in replay_input {
            task.push(v, now);
        }
        Ok(task)
    }

    #[inline]
    fn push(&mut self, v: Value, now: u64) {
        self.chain.push_head(v, &mut self.writers, now);
    }

    /// Hands the records read so far from a buffer to the chain.
    #[inline]
    fn push_batch(&mut self, now: u64) {
        if !self.batch.is_empty() {
            self.chain
                .push_head_batch(&mut self.batch, &mut self.writers, now);
        }
    }

    /// Runs to the end of input (or a stop-with-savepoint), then flushes,
    /// commits what is staged and tells every consumer the partition ended.
    pub async fn run(
        &mut self,
        tdd: &TaskDeploymentDescriptor,
        control: &mut mpsc::UnboundedReceiver<TaskControl>,
    ) -> Result<(), TaskError> {
        let _ = self.reports.send(TaskReport::state(
            self.attempt,
            ExecutionState::Running,
            None,
            self.counters.clone(),
        ));
        let jg = &tdd.job_graph;
        let vertex = jg.vertex(self.attempt.vertex as usize);
        let head_kind = &jg.stream_graph.node(vertex.operators[0]).kind;
        if head_kind.class() == KindClass::Source {
            let split = SourceSplit::new(
                head_kind,
                self.attempt.subtask,
                tdd.parallelism,
                self.source_offset,
            );
            self.run_source(split, control).await?;
        } else {
            self.run_inputs().await?;
        }
        // End of input: flush, commit what is staged, tell every consumer.
        self.after_batch(true).await?;
        if self.checkpointing {
            self.send_collected(Txn::Final);
        }
        self.writers.broadcast(StreamElement::EndOfPartition);
        self.flush_all().await?;
        Ok(())
    }

    /// A source task's loop (Flink's `SourceStreamTask`): a batch of
    /// records at a time, checkpoint triggers between batches.
    async fn run_source(
        &mut self,
        mut split: SourceSplit,
        control: &mut mpsc::UnboundedReceiver<TaskControl>,
    ) -> Result<(), TaskError> {
        loop {
            // Checkpoint triggers arrive between batches, as in Flink's
            // source tasks (the mailbox model)...
            while let Ok(trigger) = control.try_recv() {
                if self.on_trigger(trigger, split.next).await? {
                    return Ok(());
                }
            }
            if split.is_done() {
                return Ok(());
            }
            let now = self.ctx.now_ms();
            let (chain, writers) = (&mut self.chain, &mut self.writers);
            let batch = split.batch_size(writers.buffer_records());
            let produced = split.fill_batch(batch, &mut self.batch);
            chain.push_from_source_batch(&mut self.batch, writers, now);
            // ...and also while the source waits for room downstream
            // (back-pressure), so a checkpoint is never stuck behind it.
            let throttled = split.is_throttled(produced);
            while let Some(trigger) = self
                .writers
                .flush_interruptible(
                    throttled,
                    &self.ctx,
                    &mut self.counters.backpressured_ms,
                    control,
                )
                .await?
            {
                if self.on_trigger(trigger, split.next).await? {
                    return Ok(());
                }
            }
            self.after_batch(false).await?;
            split.pace(produced).await;
        }
    }

    /// A source's checkpoint trigger at `offset`; true if the task is to
    /// stop after it (stop-with-savepoint).
    async fn on_trigger(&mut self, trigger: TaskControl, offset: u64) -> Result<bool, TaskError> {
        let TaskControl::Trigger { barrier, stop } = trigger;
        self.source_offset = Some(offset);
        self.checkpoint(barrier, 0).await?;
        Ok(stop)
    }

    /// A consuming task's loop (Flink's `OneInputStreamTask`): the next
    /// buffer or priority barrier from the gate, timers when idle.
    async fn run_inputs(&mut self) -> Result<(), TaskError> {
        while !self.gate.all_ended() {
            let event = match self.gate.try_next()? {
                Some(x) => x,
                None => {
                    // Nothing to read: ship what is batched before waiting,
                    // so records never sit in a half-full buffer while idle.
                    self.flush_all().await?;
                    let t0 = self.ctx.now_ms();
                    let r = match self.chain.next_timer() {
                        Some(at) if at > t0 => {
                            let wait = std::time::Duration::from_millis(at - t0);
                            match tokio::time::timeout(wait, self.gate.next()).await {
                                Ok(r) => Some(r?),
                                Err(_) => None,
                            }
                        }
                        _ => Some(self.gate.next().await?),
                    };
                    self.counters.idle_ms += self.ctx.now_ms() - t0;
                    match r {
                        Some(x) => x,
                        None => {
                            self.fire_timers(Some(self.ctx.now_ms()));
                            continue;
                        }
                    }
                }
            };
            match event {
                GateEvent::Data(idx, elements) => self.process(idx, elements).await?,
                GateEvent::Priority(idx, b) => self.unaligned_barrier(idx, b, true).await?,
            }
            self.continue_unaligned();
            self.fire_timers(Some(self.ctx.now_ms()));
            self.after_batch(false).await?;
        }
        self.fire_timers(None);
        Ok(())
    }

    /// Sends every buffered record now.
    async fn flush_all(&mut self) -> Result<(), TaskError> {
        self.writers
            .flush(true, &self.ctx, &mut self.counters.backpressured_ms)
            .await?;
        Ok(())
    }

    fn fire_timers(&mut self, now: Option<u64>) {
        self.chain.fire_timers(now, &mut self.writers);
    }

    /// Processes one buffer from channel `idx`, handling barriers and ends.
    async fn process(&mut self, idx: usize, buf: Elements) -> Result<(), TaskError> {
        let remote = self.gate.channels[idx].channel.is_remote();
        let now = self.ctx.now_ms();
        let mut elements = buf.into_iter();
        while let Some((el, stored)) = elements.next() {
            let el = match el {
                StreamElement::Record(v) => {
                    self.counters.records_in += 1;
                    if remote {
                        self.counters.bytes_in += v.encoded_len() as u64;
                    }
                    self.barriers.on_record(idx, &v, stored);
                    self.batch.push(v);
                    continue;
                }
                other => other,
            };
            // A barrier or the end: the records before it go first.
            self.push_batch(now);
            match el {
                StreamElement::Record(_) => {} // batched above
                StreamElement::Barrier(b) if self.barriers.is_unaligned(&b) => {
                    self.unaligned_barrier(idx, b, false).await?;
                }
                StreamElement::Barrier(b) => {
                    let step = self.barriers.on_aligned_barrier(
                        &mut self.gate,
                        idx,
                        b,
                        now,
                        &mut elements,
                    );
                    if step == AlignedBarrier::Blocked {
                        self.complete_alignment().await?;
                        break;
                    }
                }
                StreamElement::EndOfPartition => {
                    self.barriers.on_end_of_partition(&mut self.gate, idx);
                    self.complete_alignment().await?;
                    self.ack_unaligned();
                }
            }
        }
        self.push_batch(now);
        Ok(())
    }

    /// When every open channel delivered the aligned barrier: checkpoint.
    async fn complete_alignment(&mut self) -> Result<(), TaskError> {
        let now = self.ctx.now_ms();
        if let Some((barrier, alignment_ms)) =
            self.barriers.try_complete_alignment(&mut self.gate, now)
        {
            self.checkpoint(barrier, alignment_ms).await?;
        }
        Ok(())
    }

    /// Unaligned checkpoints: at the first barrier, snapshot at once and let
    /// the barrier overtake the buffered output (which goes into the
    /// snapshot); keep reading every channel, recording what arrives on the
    /// others until their barriers come; then acknowledge.
    async fn unaligned_barrier(
        &mut self,
        idx: usize,
        b: CheckpointBarrier,
        priority: bool,
    ) -> Result<(), TaskError> {
        match self.barriers.on_unaligned_barrier(idx, b, priority) {
            UnalignedBarrier::Done => return Ok(()),
            UnalignedBarrier::Counted => {}
            UnalignedBarrier::Start => {
                let mut snapshot = self.snapshot_state(b);
                self.emit_barrier(b, &mut snapshot, true);
                self.barriers
                    .start_unaligned(&mut self.gate, idx, b, priority, snapshot);
                self.flush_all().await?;
            }
        }
        self.ack_unaligned();
        Ok(())
    }

    /// Moves in-flight input of an unaligned checkpoint into its snapshot,
    /// and acknowledges it if that was the last.
    fn continue_unaligned(&mut self) {
        if self.barriers.unaligned_in_progress() {
            self.barriers.drain_in_flight(&mut self.gate);
            self.ack_unaligned();
        }
    }

    fn ack_unaligned(&mut self) {
        if let Some((id, snapshot)) = self.barriers.try_complete_unaligned() {
            self.acknowledge(id, &snapshot, 0);
        }
    }

    /// The chain's state for the checkpoint of `b`; the sink's transaction
    /// is pre-committed with it.
    fn snapshot_state(&mut self, b: CheckpointBarrier) -> TaskSnapshot {
        let snapshot = self.chain.snapshot(self.source_offset);
        if self.checkpointing {
            self.send_collected(Txn::Checkpoint(b.id));
        }
        snapshot
    }

    /// Puts a barrier on every output channel. With `overtake` (unaligned),
    /// it goes ahead of the records still buffered here, which are stored in
    /// the snapshot as output in-flight data.
    fn emit_barrier(&mut self, b: CheckpointBarrier, snapshot: &mut TaskSnapshot, overtake: bool) {
        if overtake {
            snapshot
                .output_channel_state
                .extend(self.writers.overtake(b));
        } else {
            self.writers.broadcast(StreamElement::Barrier(b));
        }
    }

    fn acknowledge(&self, checkpoint: CheckpointId, snapshot: &TaskSnapshot, alignment_ms: u64) {
        self.report(FromTaskManager::AcknowledgeCheckpoint {
            attempt: self.attempt,
            checkpoint,
            state: snapshot.encode(),
            alignment_ms,
        });
    }

    /// Sends a message for the JobMaster through the TaskExecutor.
    fn report(&self, message: FromTaskManager) {
        let _ = self.reports.send(TaskReport {
            attempt: self.attempt,
            message,
        });
    }

    /// Takes the snapshot, pre-commits the sink's transaction, acknowledges,
    /// and forwards the barrier behind the records produced before it.
    async fn checkpoint(
        &mut self,
        barrier: CheckpointBarrier,
        alignment_ms: u64,
    ) -> Result<(), TaskError> {
        let mut snap = self.snapshot_state(barrier);
        // A source in unaligned mode lets its barrier overtake its buffers
        // too (savepoints are always aligned).
        let overtake = self.barriers.is_unaligned(&barrier);
        self.emit_barrier(barrier, &mut snap, overtake);
        self.acknowledge(barrier.id, &snap, alignment_ms);
        self.flush_all().await
    }

    /// A slow sink takes its time in steps of at most 5 ms and, between
    /// steps, still notices priority barriers and moves in-flight data of
    /// an unaligned checkpoint into memory, as Flink's task mailbox lets a
    /// busy task handle checkpoint events between records.
    async fn pace(&mut self) -> Result<(), TaskError> {
        while self.chain.ctx.sink_debt_us >= 1_000 {
            let step = self.chain.ctx.sink_debt_us.min(5_000);
            self.chain.ctx.sink_debt_us -= step;
            tokio::time::sleep(std::time::Duration::from_micros(step)).await;
            while let Some((idx, b)) = self.gate.try_priority() {
                self.unaligned_barrier(idx, b, true).await?;
            }
            self.continue_unaligned();
        }
        Ok(())
    }

    fn send_collected(&mut self, txn: Txn) {
        if let Some(records) = pre_commit(&mut self.chain.ctx, txn) {
            self.report(FromTaskManager::Collected {
                attempt: self.attempt,
                txn,
                records,
            });
        }
    }

    async fn after_batch(&mut self, last: bool) -> Result<(), TaskError> {
        self.counters.records_out = self.chain.ctx.records_out;
        self.counters.bytes_out = self.chain.bytes_out;
        self.writers
            .flush(last, &self.ctx, &mut self.counters.backpressured_ms)
            .await?;
        if !self.checkpointing && !self.chain.ctx.collected.is_empty() {
            self.send_collected(Txn::Immediate);
        }
        self.pace().await?;
        self.report_metrics(last);
        Ok(())
    }

    /// Every metrics interval (and at the end): the task's counters and
    /// back-pressure, and the traffic per output channel since last time.
    fn report_metrics(&mut self, last: bool) {
        let now = self.ctx.now_ms();
        let (ctx, attempt) = (&self.ctx, self.attempt);
        if self
            .metrics
            .report(now, last, ctx, attempt, &self.counters, &mut self.writers)
        {
            self.report(FromTaskManager::TaskMetrics {
                attempt,
                counters: self.counters.clone(),
            });
        }
    }
}

//! Fuzzing under `cargo test` (issue 15): whatever bytes or text come in,
//! the frame decoder, the job-file parser and the scenario parser answer
//! with a value or an error, never a panic, and the decoder never allocates
//! more than the frame cap (plus the bytes it already holds), whatever
//! length a frame claims.
//!
//! Property-based, with proptest: arbitrary input, and valid input mutated
//! (bytes flipped, cut, inserted; lines dropped, doubled, swapped; tokens
//! replaced). The cases are bounded (1024 per property; `PROPTEST_CASES`
//! sets another number). Every
//! file in `tests/fuzz-corpus/` is replayed first: the regression corpus,
//! where an input that once broke a parser is added, with the valid inputs
//! the mutations start from.

mod fuzz_support;

use fuzz_support::*;
use proptest::prelude::*;
use runtime::net::frame::{self, MAX_FRAME};
use runtime::rpc::{ClientRequest, ClientResponse, DataMessage, Fenced, FromTaskManager};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

// ---- the largest allocation while decoding --------------------------------

/// The system allocator, noting the largest single allocation made on a
/// thread while it measures.
struct Measuring;

thread_local! {
    static MEASURING: Cell<bool> = const { Cell::new(false) };
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    // `try_with`: the thread-locals may be gone while a thread ends.
    let _ = MEASURING.try_with(|m| {
        if m.get() {
            let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
        }
    });
}

unsafe impl GlobalAlloc for Measuring {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Measuring = Measuring;

/// Runs `f`, returning what it returned and its largest allocation.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|l| l.set(0));
    MEASURING.with(|m| m.set(true));
    let out = f();
    MEASURING.with(|m| m.set(false));
    (out, LARGEST.with(|l| l.get()))
}

/// What the decoder may allocate at most: the frame cap, plus what is
/// already buffered when a frame's header is read (the length-delimited
/// codec reserves the declared length on top of the buffered bytes; the
/// test's connections buffer at most 64 KiB). A declared length beyond
/// the cap is refused before anything is reserved for it.
const ALLOWED: usize = MAX_FRAME + 64 * 1024;

// ---- the frame decoder ----------------------------------------------------

/// Decodes one message body as every type a connection reads.
fn decode_all(body: &[u8]) {
    let _ = frame::decode::<FromTaskManager>(body);
    let _ = frame::decode::<ClientRequest>(body);
    let _ = frame::decode::<ClientResponse>(body);
    let _ = frame::decode::<DataMessage>(body);
    let _ = frame::decode::<Fenced>(body);
    let _ = frame::decode::<runtime::ha::CoordRequest>(body);
    let _ = frame::decode::<runtime::ha::CoordResponse>(body);
    let _ = frame::decode::<frame::Hello>(body);
    let _ = frame::decode::<frame::Proof>(body);
    let _ = runtime::jobmanager::checkpoint::snapshot::TaskSnapshot::decode(body);
    if let Ok(payload) = runtime::jobmanager::checkpoint::storage::unseal(body) {
        let _ =
            frame::decode::<runtime::jobmanager::checkpoint::snapshot::StoredCheckpoint>(payload);
    }
}

/// A connection that receives `bytes` and then closes: frames are read
/// (as `T`) until an error; how many were whole.
fn read_stream<T: serde::de::DeserializeOwned>(bytes: Vec<u8>) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let (ours, mut theirs) = tokio::io::duplex(64 * 1024);
        let feed = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = theirs.write_all(&bytes).await;
            let _ = theirs.shutdown().await;
        });
        let (mut reader, _writer) = frame::framed(Box::new(ours));
        let mut frames = 0;
        while reader.recv::<T>().await.is_ok() {
            frames += 1;
        }
        let _ = feed.await;
        frames
    })
}

/// Valid frames of the messages a JobManager reads, the mutations' seeds.
fn valid_bodies() -> Vec<Vec<u8>> {
    let job = workspace().join("tests/data/real_tcp_checkpointed.toml");
    let text = std::fs::read_to_string(&job).expect("a job file");
    let g = runtime::jobfile::parse_job(&runtime::jobfile::Source {
        file: "job.toml",
        text: &text,
        base_dir: workspace().join("tests/data").as_path(),
    })
    .expect("the job compiles");
    let jg = runtime::graph::JobGraph::from_stream_graph(&g);
    let id = runtime::graph::JobId::from_parts(&["fuzz"]);
    vec![
        frame::encode(&ClientRequest::Submit(Box::new(jg.clone()))),
        frame::encode(&ClientRequest::SubmitFromSavepoint(
            Box::new(jg),
            "savepoints/x".into(),
        )),
        frame::encode(&ClientRequest::List),
        frame::encode(&ClientRequest::Cancel(id)),
        frame::encode(&ClientRequest::Savepoint {
            job: id,
            stop: true,
        }),
        frame::encode(&frame::Hello {
            version: frame::PROTOCOL_VERSION,
            role: "taskmanager".into(),
            from: "tm-1".into(),
            nonce: vec![7; 32],
            authenticated: true,
        }),
    ]
}

/// Length-prefixed frames of `bodies`.
fn framed_bytes(bodies: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for b in bodies {
        out.extend_from_slice(&(b.len() as u32).to_be_bytes());
        out.extend_from_slice(b);
    }
    out
}

/// Any bytes as a message body, or as a connection's stream: an error or
/// a message, never a panic, never an allocation beyond the frame cap.
#[test]
fn frame_decoder_takes_any_bytes() {
    // The measure measures: a 2 MiB buffer is seen as one.
    let (_, big) = largest_allocation(|| std::hint::black_box(vec![1u8; 2 << 20]).len());
    assert!(big >= 2 << 20, "the allocation measure saw {big}");
    for (path, bytes) in corpus("frames") {
        let (_, largest) = largest_allocation(|| {
            decode_all(&bytes);
            read_stream::<ClientRequest>(bytes.clone());
        });
        assert!(
            largest <= ALLOWED,
            "{}: allocated {largest}",
            path.display()
        );
    }
    let mut r = runner();
    r.run(&proptest::collection::vec(any::<u8>(), 0..4096), |bytes| {
        let (_, largest) = largest_allocation(|| {
            decode_all(&bytes);
            read_stream::<FromTaskManager>(bytes.clone());
        });
        prop_assert!(largest <= ALLOWED, "allocated {largest}");
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
}

/// Valid frames mutated: each whole frame decodes or is refused; a
/// declared length beyond the cap is refused before anything that size is
/// allocated.
#[test]
fn frame_decoder_takes_mutated_frames() {
    let bodies = valid_bodies();
    let whole = framed_bytes(&bodies);
    assert_eq!(
        read_stream::<ClientRequest>(framed_bytes(&bodies[..5])),
        5,
        "the valid frames decode"
    );
    let mut r = runner();
    r.run(&proptest::collection::vec(byte_edit(), 1..6), |edits| {
        let bytes = apply_bytes(whole.clone(), &edits);
        let (_, largest) = largest_allocation(|| {
            read_stream::<ClientRequest>(bytes.clone());
            for b in &bodies {
                decode_all(&apply_bytes(b.clone(), &edits));
            }
        });
        prop_assert!(largest <= ALLOWED, "allocated {largest}");
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{e}"));
    // A frame that says it is 4 GiB long, and one just over the cap.
    for len in [u32::MAX, MAX_FRAME as u32 + 1] {
        let mut b = len.to_be_bytes().to_vec();
        b.extend_from_slice(&[0; 64]);
        let (frames, largest) = largest_allocation(|| read_stream::<ClientRequest>(b));
        assert_eq!(frames, 0);
        assert!(
            largest < 1024 * 1024,
            "allocated {largest} for a refused frame"
        );
    }
}

// ---- the job-file and scenario parsers ------------------------------------

/// The job file parser on `text`: a graph (which also goes through
/// chaining), or an error that says which file.
fn job_file(text: &str) -> Result<(), String> {
    match runtime::jobfile::parse_job(&runtime::jobfile::Source {
        file: "fuzz-job.toml",
        text,
        base_dir: workspace().join("scenarios/jobs").as_path(),
    }) {
        Ok(g) => {
            let jg = runtime::graph::JobGraph::from_stream_graph(&g);
            // The parallel graph too, where it is of a size to build (the
            // cap on what a job may ask for is checked before a run).
            let subtasks: u64 = jg.vertices().map(|v| u64::from(v.parallelism)).sum();
            if subtasks <= 10_000 {
                let _ = runtime::graph::ExecutionGraph::from_job_graph(&jg);
            }
            Ok(())
        }
        Err(e) => {
            let s = e.to_string();
            if s.contains("fuzz-job.toml") {
                Ok(())
            } else {
                Err(format!("an error without its place: {s}"))
            }
        }
    }
}

/// The scenario parser on `text`: a scenario, or an error that says which
/// file.
fn scenario(text: &str) -> Result<(), String> {
    let path = workspace().join("scenarios/fuzz-scenario.toml");
    match sim::scenario::parse(
        &runtime::jobfile::Source {
            file: "fuzz-scenario.toml",
            text,
            base_dir: workspace().join("scenarios").as_path(),
        },
        &path,
    ) {
        Ok(_) => Ok(()),
        Err(e) => {
            let s = e.to_string();
            if s.contains("fuzz-scenario.toml") || s.contains("scenarios/") {
                Ok(())
            } else {
                Err(format!("an error without its place: {s}"))
            }
        }
    }
}

fn run_text_target(target: &str, seeds: Vec<String>, check: fn(&str) -> Result<(), String>) {
    for (path, bytes) in corpus(target) {
        let text = String::from_utf8_lossy(&bytes);
        check(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
    let mut r = runner();
    r.run(&".{0,400}", |text| {
        check(&text).map_err(TestCaseError::fail)
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let mut r = runner();
    r.run(
        &(0..seeds.len(), proptest::collection::vec(text_edit(), 1..5)),
        |(i, edits)| {
            let text = apply_text(&seeds[i], &edits);
            check(&text).map_err(|e| TestCaseError::fail(format!("{e}\n--- input:\n{text}")))
        },
    )
    .unwrap_or_else(|e| panic!("{e}"));
}

/// Any text, and every job file of the repository mutated: a graph or a
/// positioned error, never a panic.
#[test]
fn job_file_parser_takes_any_text() {
    let mut seeds = toml_files(&["scenarios/jobs", "tests/data"]);
    seeds.retain(|t| t.contains("[[operators]]") && !t.contains("[[jobs]]"));
    run_text_target("jobfiles", seeds, job_file);
}

/// Any text, and every scenario of the repository mutated: a scenario or
/// a positioned error, never a panic.
#[test]
fn scenario_parser_takes_any_text() {
    let seeds = toml_files(&["scenarios"]);
    run_text_target("scenarios", seeds, scenario);
}

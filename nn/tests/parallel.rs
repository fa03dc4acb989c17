//! Training on every thread: the automatic methods compute the full-batch
//! gradient in chunks with `dualtape::parallel`, so a run follows the same
//! trajectory, bit for bit, on 1, 2, 3 or 8 threads; and that trajectory is
//! the notebook's (the hand-derived gradient's) up to rounding.

use dualtape::finite_diff::Scheme;
use dualtape::parallel::{program::Replayer, SumOfLosses};
use dualtape_nn::data::{disk_ring, xor_blobs};
use dualtape_nn::{
    notebook, train, Activation, Adam, Analytic, FiniteDifferences, Forward, GradientDescent,
    GradientMethod, Method, Mlp, Objective, Optimizer, Reverse, ReverseTape, TrainLog,
};
use rayon::ThreadPoolBuilder;

fn on_threads<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a thread pool")
        .install(f)
}

fn bits(log: &TrainLog) -> (Vec<u64>, Vec<u64>) {
    (
        log.losses.iter().map(|l| l.to_bits()).collect(),
        log.params.iter().map(|p| p.to_bits()).collect(),
    )
}

fn max_rel_diff(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs() / y.abs().max(1.0))
        .fold(0.0, f64::max)
}

/// Trains on 1, 2, 3 and 8 threads; asserts every run has the bits of the
/// first and returns it.
fn same_on_every_thread_count(
    objective: &Objective<'_>,
    method: &(dyn GradientMethod + Sync),
    optimizer: impl Fn() -> Box<dyn Optimizer + Send>,
    init: &[f64],
    epochs: usize,
) -> TrainLog {
    let mut first: Option<TrainLog> = None;
    for threads in [1, 2, 3, 8] {
        let mut opt = optimizer();
        let log = on_threads(threads, || {
            train(objective, method, opt.as_mut(), init, epochs).expect("training runs")
        });
        match &first {
            None => first = Some(log),
            Some(f) => assert!(
                bits(&log) == bits(f),
                "{} on {threads} threads left the 1-thread trajectory",
                method.name()
            ),
        }
    }
    first.expect("at least one run")
}

#[test]
fn the_notebook_trains_the_same_bits_on_any_number_of_threads() {
    let data = disk_ring(400, 1);
    let net = Mlp::notebook();
    let objective = net.objective(&data).with_chunk(32); // 13 chunks, the last one short
    let init = net.init_params(0);
    let gd = || Box::new(GradientDescent { learning_rate: 1.0 }) as Box<dyn Optimizer + Send>;
    let epochs = 12;
    // The oracle: the notebook's hand-derived gradient, one serial sum.
    let oracle = train(&objective, &Analytic, gd().as_mut(), &init, epochs).unwrap();
    let methods: [(&(dyn GradientMethod + Sync), f64); 3] = [
        (&Reverse, 1e-12),
        (&Forward::<16>, 1e-12),
        (
            &FiniteDifferences {
                scheme: Scheme::Central,
            },
            1e-7,
        ),
    ];
    for (method, tol) in methods {
        let log = same_on_every_thread_count(&objective, method, gd, &init, epochs);
        // Another summation order than the oracle's: equal up to rounding
        // (finite differences up to their truncation error).
        let d = max_rel_diff(&log.losses, &oracle.losses);
        assert!(
            d < tol,
            "{}: losses differ from the oracle's by {d:e}",
            method.name()
        );
        let d = max_rel_diff(&log.params, &oracle.params);
        assert!(
            d < tol,
            "{}: params differ from the oracle's by {d:e}",
            method.name()
        );
    }
}

#[test]
fn a_deeper_network_with_adam_trains_the_same_bits_on_any_number_of_threads() {
    let data = xor_blobs(300, 3);
    let net = Mlp::new(&[2, 8, 8, 1], Activation::Tanh, Activation::Sigmoid);
    let objective = net.objective(&data).with_chunk(40); // 8 chunks, the last one short
    let init = net.init_params_lecun(2);
    let adam = || Box::new(Adam::new(0.05)) as Box<dyn Optimizer + Send>;
    let log = same_on_every_thread_count(&objective, &Method::Reverse, adam, &init, 10);
    // Forward mode follows the same path up to rounding (its chunk values
    // are the same bits, its gradients agree to ~1e-16).
    let fwd = train(&objective, &Forward::<8>, adam().as_mut(), &init, 10).unwrap();
    assert!(max_rel_diff(&fwd.losses, &log.losses) < 1e-10);
    assert!(log.final_loss() < log.losses[0], "{:?}", log.losses);
}

#[test]
fn the_chunked_gradient_is_the_hand_derived_one() {
    let data = disk_ring(1000, 7);
    let net = Mlp::notebook();
    let w = net.init_params(3);
    let (l_hand, g_hand) = notebook::gradient(&w, &data);
    for chunk in [1, 7, 64, 256, 1000, 5000] {
        let o = net.objective(&data).with_chunk(chunk);
        let (l, g) = Reverse.gradient(&o, &w).unwrap();
        assert!((l - l_hand).abs() < 1e-14, "chunk {chunk}: {l} vs {l_hand}");
        assert!(max_rel_diff(&g, &g_hand) < 1e-14, "chunk {chunk}");
        assert_eq!(l.to_bits(), o.chunked_value(&w).to_bits());
        // The chunks' shares add up to the mean.
        assert_eq!(o.len(), 1000);
        let shares: f64 = dualtape::parallel::chunks(1000, chunk)
            .map(|r| o.eval_chunk(r, &w))
            .sum();
        assert!((shares - l_hand).abs() < 1e-14);
    }
    // One chunk for the whole data set: exactly the single sum.
    let o = net.objective(&data).with_chunk(1000);
    assert_eq!(o.chunked_value(&w).to_bits(), o.value(&w).to_bits());
}

#[test]
#[should_panic(expected = "a chunk needs at least one point")]
fn a_zero_chunk_is_refused_with_advice() {
    let data = disk_ring(10, 1);
    let net = Mlp::notebook();
    let _ = net.objective(&data).with_chunk(0);
}

/// `Reverse` records one program per chunk length and replays it every
/// epoch; `ReverseTape` records every chunk at every epoch. The same
/// trajectory, bit for bit: on the notebook's network with both losses, on
/// a deeper tanh network with Adam, on a ReLU network (whose chunks take
/// other branches as training goes, and are recorded again), and with a
/// clamped cross-entropy (an identity output), on 1 and 3 threads.
#[test]
fn replaying_trains_the_bits_of_recording_every_epoch() {
    let disk = disk_ring(300, 4);
    let xor = xor_blobs(250, 5);
    let cases: Vec<(Mlp, &dualtape_nn::data::Dataset, usize, Vec<f64>)> = vec![
        (Mlp::notebook(), &disk, 64, Mlp::notebook().init_params(0)),
        (
            Mlp::notebook().with_loss(dualtape_nn::Loss::SquaredError),
            &xor,
            100,
            Mlp::notebook().init_params(1),
        ),
        {
            let net = Mlp::new(&[2, 8, 8, 1], Activation::Tanh, Activation::Sigmoid);
            let init = net.init_params_lecun(2);
            (net, &xor, 40, init)
        },
        {
            let net = Mlp::new(&[2, 6, 1], Activation::Relu, Activation::Sigmoid);
            let init = net.init_params_lecun(3);
            (net, &disk, 32, init)
        },
        {
            let net = Mlp::new(&[2, 4, 1], Activation::Sigmoid, Activation::Identity);
            let init = net.init_params(4);
            (net, &disk, 50, init)
        },
    ];
    for (net, data, chunk, init) in &cases {
        let objective = net.objective(data).with_chunk(*chunk);
        // The loss reads no value: every chunk replays, none falls back to
        // the tape; one recording per chunk length, and more only where a
        // ReLU's comparisons or a clamp's branches differ between chunks.
        let replayer = Replayer::new(&objective, *chunk);
        let (l, g) = replayer.gradient(init);
        assert_eq!(replayer.tape_chunks(), 0, "{net:#}");
        let lengths = if data.len() % chunk == 0 { 1 } else { 2 };
        let kinks = net
            .layers()
            .iter()
            .any(|l| l.activation == Activation::Relu)
            || net.output_activation() != Activation::Sigmoid;
        let recordings = replayer.recordings();
        assert!(
            recordings == lengths || (kinks && recordings > lengths),
            "{net:#}: {recordings} recordings"
        );
        assert_eq!((l, g), Reverse.gradient(&objective, init).unwrap());
        for threads in [1, 3] {
            let run = |method: &(dyn GradientMethod + Sync)| {
                let mut adam = Adam::new(0.05);
                on_threads(threads, || {
                    train(&objective, method, &mut adam, init, 15).expect("training runs")
                })
            };
            let (replayed, recorded) = (run(&Reverse), run(&ReverseTape));
            assert!(
                bits(&replayed) == bits(&recorded),
                "{net:#}, {threads} threads: replaying left the recording's trajectory"
            );
            assert!(recorded.final_loss() < recorded.losses[0], "{net:#}");
        }
    }
}

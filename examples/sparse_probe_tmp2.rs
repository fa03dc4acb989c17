use dualtape::sparse::HessianPlan;
use dualtape::{Differentiable, Scalar};
#[path = "sparse_probe_tmp.rs"]
#[allow(dead_code)]
mod p;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args[1].as_str();
    let reps: usize = args[2].parse().unwrap();
    let k = 32;
    let f = p::Laplacian2d(k);
    let x: Vec<f64> = (0..k * k).map(|i| 0.1 + 0.3 * ((i as f64) * 0.37).sin()).collect();
    let plan = HessianPlan::new(p::grid(k));
    let prog = dualtape::reverse::record(|v| f.eval(v), &x);
    let mut v = vec![0.0; plan.sparsity().nnz()];
    for _ in 0..reps {
        match mode {
            "model" => { plan.values_into(&f, &x, &mut v); }
            "replay" => { plan.values_program_into(&prog, &x, &mut v).unwrap(); }
            "f64" => { std::hint::black_box(f.eval(std::hint::black_box(&x))); }
            _ => panic!(),
        }
    }
}

use dualtape::sparse::{HessianPlan, Sparsity};
use dualtape::{Differentiable, Scalar};
use std::time::Instant;

pub struct Laplacian2d(pub usize);
impl Differentiable for Laplacian2d {
    fn dim(&self) -> usize { self.0 * self.0 }
    fn eval<S: Scalar<Real = f64>>(&self, u: &[S]) -> S {
        let k = self.0;
        let h = 1.0 / (k + 1) as f64;
        let h2 = h * h;
        let mut e = S::constant(0.0);
        for i in 0..k {
            for j in 0..k {
                let p = i * k + j;
                e -= u[p].exp() * h2;
                let right = if j + 1 < k { u[p] - u[p + 1] } else { u[p] };
                let down = if i + 1 < k { u[p] - u[p + k] } else { u[p] };
                e += (right * right + down * down) * 0.5;
                if i == 0 { e += u[p] * u[p] * 0.5; }
                if j == 0 { e += u[p] * u[p] * 0.5; }
            }
        }
        e
    }
}

pub fn grid(k: usize) -> Sparsity {
    let mut e = Vec::new();
    for i in 0..k { for j in 0..k {
        let p = i * k + j; e.push((p, p));
        if i > 0 { e.push((p, p - k)); } if i + 1 < k { e.push((p, p + k)); }
        if j > 0 { e.push((p, p - 1)); } if j + 1 < k { e.push((p, p + 1)); }
    }}
    Sparsity::from_entries(k * k, k * k, e)
}

fn main() {
    for k in [32, 100] {
        let f = Laplacian2d(k);
        let x: Vec<f64> = (0..k * k).map(|i| 0.1 + 0.3 * ((i as f64) * 0.37).sin()).collect();
        let t = Instant::now();
        let plan = HessianPlan::new(grid(k));
        let tp = t.elapsed();
        let mut v = vec![0.0; plan.sparsity().nnz()];
        let reps = 50;
        let t = Instant::now();
        for _ in 0..reps { plan.values_into(&f, &x, &mut v); }
        let te = t.elapsed() / reps;
        let prog = dualtape::reverse::record(|v| f.eval(v), &x);
        let t = Instant::now();
        for _ in 0..reps { plan.values_program_into(&prog, &x, &mut v).unwrap(); }
        let tr = t.elapsed() / reps;
        let t = Instant::now();
        for _ in 0..reps { let p = dualtape::reverse::record(|v| f.eval(v), &x); plan.values_program_into(&p, &x, &mut v).unwrap(); }
        let trr = t.elapsed() / reps;
        let mut ws = dualtape::reverse::Workspace::default();
        let (mut g, mut hv) = (vec![0.0; k * k], vec![0.0; k * k]);
        let dir: Vec<f64> = plan.colouring().colours().iter().map(|&c| if c == 0 { 1.0 } else { 0.0 }).collect();
        let t = Instant::now();
        for _ in 0..reps { for _c in 0..plan.colouring().count() { prog.hvp_into(&mut ws, &x, &dir, &mut g, &mut hv).unwrap(); } }
        let th = t.elapsed() / reps;
        let mut gws = prog.workspace();
        let t = Instant::now();
        for _ in 0..reps { prog.gradient_into(&mut gws, &x, &mut g).unwrap(); }
        let tg = t.elapsed() / reps;
        println!("replay {:?}, record+replay {:?}, hvp x colours {:?}, replay gradient {:?}", tr, trr, th, tg);
        let t = Instant::now();
        for _ in 0..reps { std::hint::black_box(f.eval(&x)); }
        let tf = t.elapsed() / reps;
        println!("k={k}: colours {}, plan {:?}, eval {:?}, f64 {:?}, ratio {:.1}", plan.colouring().count(), tp, te, tf, te.as_secs_f64() / tf.as_secs_f64());
    }
}

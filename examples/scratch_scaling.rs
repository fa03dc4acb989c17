use dualtape::nn::data::{disk_ring, Dataset};
use dualtape::nn::{Activation, Mlp};
use dualtape::parallel::{self, SumOfLosses};
use dualtape::{Differentiable, Scalar};
use std::ops::Range;
use std::time::Instant;

struct Net<'a> { mlp: &'a Mlp, data: &'a Dataset }
impl SumOfLosses for Net<'_> {
    fn len(&self) -> usize { self.data.len() }
    fn dim(&self) -> usize { self.mlp.n_params() }
    fn eval_chunk<S: Scalar<Real = f64>>(&self, r: Range<usize>, w: &[S]) -> S {
        let x = self.data.x.rows(r.start, r.len()).map(S::constant);
        let z = self.mlp.logits(w, &x);
        let act = self.mlp.output_activation();
        let mut sum = S::zero();
        for (&zi, &t) in z.iter().zip(self.data.y.rows(r.start, r.len()).iter()) {
            sum += self.mlp.loss_function().point(act, zi, t);
        }
        sum / self.data.len() as f64
    }
}

fn time(f: &mut dyn FnMut()) -> f64 {
    let mut v: Vec<f64> = (0..15).map(|_| { let s = Instant::now(); f(); s.elapsed().as_secs_f64() }).collect();
    v.sort_by(f64::total_cmp); v[v.len()/2]
}

fn main() {
    let chunk: usize = std::env::args().nth(1).map(|s| s.parse().unwrap()).unwrap_or(256);
    for (net, n) in [(Mlp::notebook(), 10_000usize), (Mlp::new(&[2,64,64,1], Activation::Tanh, Activation::Sigmoid), 10_000)] {
        let data = disk_ring(n, 1);
        let w = net.init_params_lecun(0);
        let m = Net { mlp: &net, data: &data };
        let obj = net.objective(&data);
        let serial = time(&mut || { std::hint::black_box(dualtape::function::reverse::gradient(&obj, &w)); });
        let p1 = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let p2 = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let t1 = time(&mut || { p1.install(|| std::hint::black_box(parallel::reverse::gradient(&m, &w, chunk))); });
        let t2 = time(&mut || { p2.install(|| std::hint::black_box(parallel::reverse::gradient(&m, &w, chunk))); });
        let (a, ga) = parallel::reverse::gradient(&m, &w, chunk);
        let (b, gb) = dualtape::function::reverse::gradient(&obj, &w);
        println!("{net} n={n} chunk={chunk}: serial {:.3}ms  1t {:.3}ms ({:.3})  2t {:.3}ms speedup {:.2}  diff {:e} {:e}",
            serial*1e3, t1*1e3, t1/serial, t2*1e3, t1/t2, (a-b).abs(), ga.iter().zip(&gb).map(|(x,y)|(x-y).abs()).fold(0.0,f64::max));
        let _ = obj.eval(&w);
    }
}

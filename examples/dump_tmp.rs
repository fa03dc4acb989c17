#[path = "../benches/common/mod.rs"]
mod common;
use common::*;
use dualtape::reverse;
fn main() {
    let w = Rosenbrock::new(8);
    let p = reverse::record(|x| w.eval(x), w.x0());
    println!("inputs {} guards {}", p.inputs(), p.guards().len());
    for (k, i) in p.instructions().iter().enumerate() { println!("{k}: {i:?}"); }
    println!("out {:?}", p.output_args());
    let w = Notebook::new(3);
    let p = reverse::record(|x| w.eval(x), w.x0());
    println!("inputs {} guards {}", p.inputs(), p.guards().len());
    for (k, i) in p.instructions().iter().enumerate() { println!("{k}: {i:?}"); }
    println!("out {:?}", p.output_args());
}

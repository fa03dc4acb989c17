fn main() {
    let (f, d) = num_dual::first_derivative(|x| x * x, 3.0);
    println!("num-dual {f} {d}");
    let x = ad_trait::reverse_ad::adr::adr::new_variable(3.0, true);
    let y = x * x;
    println!("ad_trait {}", y.get_backwards_mode_grad().wrt(&x));
    println!("autodiff {}", autodiff::diff(|x| x * x, 3.0));
    let t = reverse::Tape::new();
    let v = t.add_var(3.0);
    let g = (v * v).grad();
    use reverse::Gradient;
    println!("reverse {}", g.wrt(&v));
}

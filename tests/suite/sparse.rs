//! Sparse Jacobians and Hessians against the dense drivers and closed forms:
//! banded, arrowhead, block-diagonal and random-sparse functions, up to
//! n = 10⁴; detection; colour counts; changed sparsity reported.

use dualtape::sparse::{self, colour, HessianPlan, JacobianPlan, Side, Sparsity};
use dualtape::{forward, reverse, Differentiable, Scalar, VectorFunction};
use nalgebra::DMatrix;
use nalgebra_sparse::CsrMatrix;

fn close(a: f64, b: f64) -> bool {
    crate::support::compare::close(a, b, 1e-12, 1e-12)
}

/// Every entry of a sparse matrix equals the dense one, and the dense one
/// is zero outside the pattern.
fn assert_matches(sparse: &CsrMatrix<f64>, dense: &DMatrix<f64>) {
    assert_eq!((sparse.nrows(), sparse.ncols()), dense.shape());
    let mut seen = DMatrix::from_element(dense.nrows(), dense.ncols(), false);
    for (i, j, &v) in sparse.triplet_iter() {
        assert!(
            close(v, dense[(i, j)]),
            "({i}, {j}): sparse {v}, dense {}",
            dense[(i, j)]
        );
        seen[(i, j)] = true;
    }
    for i in 0..dense.nrows() {
        for j in 0..dense.ncols() {
            assert!(
                seen[(i, j)] || dense[(i, j)] == 0.0,
                "({i}, {j}) = {} missed",
                dense[(i, j)]
            );
        }
    }
}

fn point(n: usize, seed: u64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((s >> 11) as f64 / (1u64 << 53) as f64) * 1.6 - 0.8
        })
        .collect()
}

// ------------------------------------------------------------ functions

/// Banded residual of half-bandwidth `b`: r_i = x_i³ + Σ_{0<|k|≤b} c_k x_{i+k} sin(x_i) − 1.
struct Banded {
    n: usize,
    b: usize,
}

impl VectorFunction for Banded {
    fn dim(&self) -> usize {
        self.n
    }
    fn outputs(&self) -> usize {
        self.n
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
        let n = self.n as isize;
        (0..n)
            .map(|i| {
                let mut r = x[i as usize].powi(3) - 1.0;
                for k in 1..=self.b as isize {
                    for j in [i - k, i + k] {
                        if (0..n).contains(&j) {
                            r += x[j as usize] * x[i as usize].sin() * (1.0 + k as f64);
                        }
                    }
                }
                r
            })
            .collect()
    }
}

impl Banded {
    /// ∂r_i/∂x_j in closed form.
    fn entry(&self, x: &[f64], i: usize, j: usize) -> f64 {
        let n = self.n as isize;
        let (ii, jj) = (i as isize, j as isize);
        if i == j {
            let mut d = 3.0 * x[i] * x[i];
            for k in 1..=self.b as isize {
                for l in [ii - k, ii + k] {
                    if (0..n).contains(&l) {
                        d += x[l as usize] * x[i].cos() * (1.0 + k as f64);
                    }
                }
            }
            d
        } else if (ii - jj).unsigned_abs() <= self.b {
            x[i].sin() * (1.0 + (ii - jj).abs() as f64)
        } else {
            0.0
        }
    }
}

/// Arrowhead: y_0 = Σ x_i², y_i = x_0 x_i + sin x_i (i ≥ 1).
struct ArrowJ(usize);

impl VectorFunction for ArrowJ {
    fn dim(&self) -> usize {
        self.0
    }
    fn outputs(&self) -> usize {
        self.0
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
        let mut y = vec![x.iter().fold(S::constant(0.0), |a, &v| a + v * v)];
        y.extend((1..self.0).map(|i| x[0] * x[i] + x[i].sin()));
        y
    }
}

/// Arrowhead energy: Σ_{i≥1} x_0 x_i² + Σ cosh x_i.
struct ArrowH(usize);

impl Differentiable for ArrowH {
    fn dim(&self) -> usize {
        self.0
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        let mut e = S::constant(0.0);
        for i in 0..self.0 {
            e += x[i].cosh();
            if i > 0 {
                e += x[0] * x[i] * x[i];
            }
        }
        e
    }
}

/// Block diagonal: blocks of 4 inputs, each output a nonlinear function of its block.
struct Blocks(usize);

impl VectorFunction for Blocks {
    fn dim(&self) -> usize {
        4 * self.0
    }
    fn outputs(&self) -> usize {
        4 * self.0
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
        let mut y = Vec::new();
        for b in x.chunks(4) {
            let s = b[0] * b[1] + b[2].exp() * b[3];
            for (k, &v) in b.iter().enumerate() {
                y.push((s + v * (k as f64)).tanh());
            }
        }
        y
    }
}

impl Differentiable for Blocks {
    fn dim(&self) -> usize {
        4 * self.0
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        VectorFunction::eval(self, x)
            .into_iter()
            .fold(S::constant(0.0), |a, v| a + v * v)
    }
}

/// Random sparse: output i reads a few pseudo-random inputs.
struct Random {
    n: usize,
    reads: Vec<[usize; 3]>,
}

impl Random {
    fn new(n: usize, m: usize, seed: u64) -> Self {
        let mut s = seed;
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) as usize % n
        };
        Random {
            n,
            reads: (0..m).map(|_| [next(), next(), next()]).collect(),
        }
    }
}

impl VectorFunction for Random {
    fn dim(&self) -> usize {
        self.n
    }
    fn outputs(&self) -> usize {
        self.reads.len()
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
        self.reads
            .iter()
            .map(|&[a, b, c]| x[a] * x[b].cos() + (x[c] * 0.5).exp())
            .collect()
    }
}

impl Differentiable for Random {
    fn dim(&self) -> usize {
        self.n
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        VectorFunction::eval(self, x)
            .into_iter()
            .fold(S::constant(0.0), |a, v| a + v.sin())
    }
}

/// Tridiagonal energy: Σ (x_{i+1} − x_i)²/2 + Σ (x_i⁴/4 − x_i).
struct Chain(usize);

impl Differentiable for Chain {
    fn dim(&self) -> usize {
        self.0
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        let mut e = S::constant(0.0);
        for i in 0..self.0 {
            e += x[i].powi(4) * 0.25 - x[i];
            if i + 1 < self.0 {
                let d = x[i + 1] - x[i];
                e += d * d * 0.5;
            }
        }
        e
    }
}

// ------------------------------------------------------------ Jacobians

fn jacobian_all_sides<F: VectorFunction>(f: &F, x: &[f64]) {
    let (y_dense, dense) = forward::jacobian(|v| f.eval(v), x);
    let (_, dense_rev) = reverse::jacobian(|v| f.eval(v), x);
    let pattern = sparse::jacobian_sparsity(f, x);
    for side in [Side::Auto, Side::Forward, Side::Reverse] {
        let plan = JacobianPlan::new(pattern.clone(), side);
        let (y, j) = plan.eval(f, x);
        assert_eq!(y, y_dense);
        assert_matches(&j, &dense);
        assert_matches(&j, &dense_rev);
        plan.eval_checked(f, x).unwrap();
        sparse::check_jacobian(&plan, f, x).unwrap();
        // The same plan replaying a recorded program.
        let program = reverse::record_vector(|v| VectorFunction::eval(f, v), x);
        assert_eq!(sparse::jacobian_sparsity_of(&program), pattern);
        let (y, j) = plan.eval_program(&program, x).unwrap();
        assert_eq!(y, y_dense);
        assert_matches(&j, &dense);
    }
}

#[test]
fn banded_jacobians_match_the_dense_drivers() {
    for b in 0..4 {
        let f = Banded { n: 40, b };
        let x = point(40, b as u64);
        jacobian_all_sides(&f, &x);
        let plan = JacobianPlan::detect(&f, &x, Side::Forward);
        assert_eq!(plan.colouring().count(), 2 * b + 1);
        assert_eq!(plan.passes(), (2 * b + 1).div_ceil(8).max(1));
        assert_eq!(
            plan.sparsity().nnz(),
            (0..40)
                .map(|i: usize| (i + b).min(39) + 1 - i.saturating_sub(b))
                .sum::<usize>()
        );
    }
}

#[test]
fn arrowhead_block_diagonal_and_random_jacobians_match() {
    jacobian_all_sides(&ArrowJ(30), &point(30, 1));
    jacobian_all_sides(&Blocks(8), &point(32, 2));
    for seed in 0..5 {
        jacobian_all_sides(&Random::new(40, 25, seed), &point(40, seed));
        jacobian_all_sides(&Random::new(25, 40, seed), &point(25, seed + 9));
    }
    // Block diagonal: as many colours as a block is wide.
    let plan = JacobianPlan::detect(&Blocks(8), &point(32, 2), Side::Auto);
    assert_eq!(plan.colouring().count(), 4);
    assert_eq!(plan.passes(), 1);
}

#[test]
fn auto_side_takes_reverse_for_few_dense_outputs() {
    /// Two outputs, each reading every input.
    struct Wide;
    impl VectorFunction for Wide {
        fn dim(&self) -> usize {
            50
        }
        fn outputs(&self) -> usize {
            2
        }
        fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
            let s = x.iter().fold(S::constant(0.0), |a, &v| a + v.sin());
            vec![s, s * x[0]]
        }
    }
    let x = point(50, 3);
    let plan = JacobianPlan::detect(&Wide, &x, Side::Auto);
    assert_eq!(
        (plan.side(), plan.colouring().count(), plan.passes()),
        (Side::Reverse, 2, 2)
    );
    let forced = JacobianPlan::detect(&Wide, &x, Side::Forward);
    assert_eq!(
        (forced.side(), forced.colouring().count(), forced.passes()),
        (Side::Forward, 50, 7)
    );
    let (_, dense) = reverse::jacobian(|v| Wide.eval(v), &x);
    assert_matches(&plan.eval(&Wide, &x).1, &dense);
    assert_matches(&forced.eval(&Wide, &x).1, &dense);
}

#[test]
fn banded_jacobian_at_ten_thousand_inputs_in_one_pass() {
    let n = 10_000;
    let f = Banded { n, b: 1 };
    let x = point(n, 7);
    let plan = JacobianPlan::detect(&f, &x, Side::Auto);
    assert_eq!(plan.sparsity().nnz(), 3 * n - 2);
    assert_eq!(
        (plan.side(), plan.colouring().count(), plan.passes()),
        (Side::Forward, 3, 1)
    );
    let (y, values) = plan.values(&f, &x);
    let exact = VectorFunction::eval(&f, &x);
    assert_eq!(y, exact);
    for (k, (i, j)) in plan.sparsity().entries().enumerate() {
        assert!(close(values[k], f.entry(&x, i, j)), "({i}, {j})");
    }
    // The reverse side, and the raw triplets.
    let rev = JacobianPlan::new(plan.sparsity().clone(), Side::Reverse);
    assert_eq!(rev.passes(), 3);
    let (_, rv) = rev.values(&f, &x);
    let (rows, cols, vals) = rev.sparsity().triplets(&rv);
    for k in (0..rows.len()).step_by(97) {
        assert!(close(vals[k], f.entry(&x, rows[k], cols[k])));
    }
}

// ------------------------------------------------------------ Hessians

fn hessian_matches<M: Differentiable>(f: &M, x: &[f64]) -> HessianPlan {
    let (v_dense, g_dense, dense) = reverse::hessian(|v| f.eval(v), x);
    let plan = HessianPlan::detect(f, x);
    assert!(plan.sparsity().is_symmetric());
    assert!(colour::is_star_colouring(plan.sparsity(), plan.colouring()));
    let (v, g, h) = plan.eval(f, x);
    assert_eq!(v, v_dense);
    for i in 0..x.len() {
        assert!(close(g[i], g_dense[i]));
    }
    assert_matches(&h, &dense);
    plan.eval_checked(f, x).unwrap();
    sparse::check_hessian(&plan, f, x).unwrap();
    // The same plan replaying a recorded program, and the one-shot driver.
    let program = reverse::record(|v| f.eval(v), x);
    assert_eq!(&sparse::hessian_sparsity_of(&program), plan.sparsity());
    let (v, g, h) = plan.eval_program(&program, x).unwrap();
    assert_eq!(v, v_dense);
    for i in 0..x.len() {
        assert!(close(g[i], g_dense[i]));
    }
    assert_matches(&h, &dense);
    let (_, _, h) = sparse::hessian(f, x);
    assert_matches(&h, &dense);
    plan
}

#[test]
fn hessians_match_the_dense_driver() {
    let plan = hessian_matches(&Chain(30), &point(30, 4));
    assert_eq!(plan.colouring().count(), 3);
    assert_eq!(plan.sparsity().nnz(), 3 * 30 - 2);
    // Arrowhead: a star colouring needs 2 colours where a column colouring needs n.
    let plan = hessian_matches(&ArrowH(40), &point(40, 5));
    assert_eq!(plan.colouring().count(), 2);
    assert_eq!(colour::columns(plan.sparsity()).count(), 40);
    let plan = hessian_matches(&Blocks(6), &point(24, 6));
    assert_eq!(plan.colouring().count(), 4);
    for seed in 0..4 {
        hessian_matches(&Random::new(30, 20, seed), &point(30, seed + 20));
    }
}

/// Jacobians through one reused `sparse::Workspace`, both sides, replaying
/// a program at a second point: the dense drivers' values every time.
fn jacobian_with_workspace<F: VectorFunction>(ws: &mut sparse::Workspace, f: &F, x0: &[f64]) {
    let program = reverse::record_vector(|v| VectorFunction::eval(f, v), x0);
    let pattern = sparse::jacobian_sparsity_of(&program);
    let x1: Vec<f64> = x0.iter().map(|v| v * 0.7 + 0.1).collect();
    for side in [Side::Forward, Side::Reverse] {
        let plan = JacobianPlan::new(pattern.clone(), side);
        for x in [x0, &x1] {
            let (y_dense, dense) = forward::jacobian(|v| f.eval(v), x);
            let mut values = vec![f64::NAN; pattern.nnz()];
            let mut y = vec![f64::NAN; f.outputs()];
            plan.values_program_with(ws, &program, x, &mut values, &mut y)
                .unwrap();
            assert_eq!(y, y_dense);
            assert_matches(&pattern.csr(values), &dense);
        }
    }
}

/// Hessians through one reused `sparse::Workspace`, on the model and by
/// replaying a program, at two points: the dense driver's every time.
fn hessian_with_workspace<M: Differentiable>(ws: &mut sparse::Workspace, f: &M, x0: &[f64]) {
    let program = reverse::record(|v| f.eval(v), x0);
    let plan = HessianPlan::new(sparse::hessian_sparsity_of(&program));
    let x1: Vec<f64> = x0.iter().map(|v| v * 0.7 + 0.1).collect();
    for x in [x0, &x1] {
        let (v_dense, g_dense, dense) = reverse::hessian(|v| f.eval(v), x);
        for on_model in [true, false] {
            let mut values = vec![f64::NAN; plan.sparsity().nnz()];
            let mut g = vec![f64::NAN; x.len()];
            let v = if on_model {
                plan.values_with(ws, f, x, &mut values, &mut g)
            } else {
                plan.values_program_with(ws, &program, x, &mut values, &mut g)
                    .unwrap()
            };
            assert_eq!(v, v_dense);
            for i in 0..x.len() {
                assert!(close(g[i], g_dense[i]), "gradient {i}");
            }
            assert_matches(&plan.sparsity().csr(values), &dense);
        }
    }
}

#[test]
fn one_workspace_serves_every_plan_size_and_lane_count() {
    let mut ws = sparse::Workspace::default();
    // Large before small, and every lane count (1, 2, 4 and 8 colours per
    // pass, and more colours than lanes), on both sides.
    hessian_with_workspace(&mut ws, &Chain(200), &point(200, 30));
    for b in [3, 0, 1, 2, 5] {
        jacobian_with_workspace(
            &mut ws,
            &Banded { n: 60 - 5 * b, b },
            &point(60 - 5 * b, b as u64),
        );
    }
    jacobian_with_workspace(&mut ws, &ArrowJ(30), &point(30, 31));
    jacobian_with_workspace(&mut ws, &Blocks(8), &point(32, 32));
    jacobian_with_workspace(&mut ws, &Random::new(25, 40, 3), &point(25, 33));
    hessian_with_workspace(&mut ws, &ArrowH(40), &point(40, 34));
    hessian_with_workspace(&mut ws, &Blocks(6), &point(24, 35));
    hessian_with_workspace(&mut ws, &Chain(30), &point(30, 36));
    for seed in 0..3 {
        hessian_with_workspace(&mut ws, &Random::new(30, 20, seed), &point(30, seed + 37));
    }
    // A diagonal Hessian: one colour, one lane.
    struct Diagonal;
    impl Differentiable for Diagonal {
        fn dim(&self) -> usize {
            7
        }
        fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
            x.iter().fold(S::constant(0.0), |a, &v| a + v.exp() * v)
        }
    }
    let plan = HessianPlan::detect(&Diagonal, &point(7, 40));
    assert_eq!(plan.colouring().count(), 1);
    hessian_with_workspace(&mut ws, &Diagonal, &point(7, 40));
}

/// Reads a value to pick a coefficient: a program recorded from it cannot
/// be replayed elsewhere, but the plan records it afresh at every point.
struct ReadsItsValue(usize);
impl Differentiable for ReadsItsValue {
    fn dim(&self) -> usize {
        self.0
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        let s = if x[0].value() > 0.0 { 1.0 } else { -2.0 };
        let mut e = S::constant(0.0);
        for i in 0..x.len() {
            e += x[i].powi(3) * s;
            if i + 1 < x.len() {
                e += (x[i] - x[i + 1]).powi(2);
            }
        }
        e
    }
}

#[test]
fn a_plan_on_a_model_that_reads_values_is_right_on_both_sides() {
    let f = ReadsItsValue(12);
    let plan = HessianPlan::detect(&f, &point(12, 3));
    let program = reverse::record(|v| f.eval(v), &point(12, 3));
    assert!(plan.eval_program(&program, &point(12, 3)).is_err());
    for sign in [1.0, -1.0] {
        let x: Vec<f64> = point(12, 5)
            .iter()
            .map(|v| sign * (v.abs() + 0.1))
            .collect();
        let (v_dense, _, dense) = reverse::hessian(|v| f.eval(v), &x);
        let (v, _, h) = plan.eval(&f, &x);
        assert_eq!(v, v_dense);
        assert_matches(&h, &dense);
        // 6 s x_0 + 2: the coefficient of the side x is on
        let s = if sign > 0.0 { 1.0 } else { -2.0 };
        assert!(close(
            h.get_entry(0, 0).unwrap().into_value(),
            6.0 * s * x[0] + 2.0
        ));
    }
}

#[test]
fn tridiagonal_hessian_at_ten_thousand_inputs() {
    let n = 10_000;
    let x = point(n, 8);
    let plan = HessianPlan::detect(&Chain(n), &x);
    assert_eq!((plan.colouring().count(), plan.passes()), (3, 1)); // one DualVec<f64, 4> pass
    let (_, g, h) = plan.eval(&Chain(n), &x);
    assert_eq!(h.nnz(), 3 * n - 2);
    for (i, j, &v) in h.triplet_iter() {
        let want = if i == j {
            3.0 * x[i] * x[i] + if i == 0 || i == n - 1 { 1.0 } else { 2.0 }
        } else {
            -1.0
        };
        assert!(close(v, want), "({i}, {j}): {v} vs {want}");
    }
    for i in [0, 1, n / 2, n - 1] {
        let mut want = x[i].powi(3) - 1.0;
        if i > 0 {
            want += x[i] - x[i - 1];
        }
        if i + 1 < n {
            want -= x[i + 1] - x[i];
        }
        assert!(close(g[i], want));
    }
}

// ------------------------------------------------------------ detection

#[test]
fn hessian_pattern_counts_only_nonlinear_interactions() {
    struct F;
    impl Differentiable for F {
        fn dim(&self) -> usize {
            4
        }
        fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
            // linear in x3; x0·x1 bilinear; x2 / x1; sin of a sum; a floor
            x[3] * 2.0 + x[0] * x[1] + x[2] / x[1] + (x[0] + x[3] * 0.0).sin() + x[3].floor()
        }
    }
    let p = sparse::hessian_sparsity(&F, &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(p.to_string(), "**..\n***.\n.*..\n....\n");
}

#[test]
fn a_zero_partial_at_the_point_keeps_its_entry() {
    struct F;
    impl VectorFunction for F {
        fn dim(&self) -> usize {
            2
        }
        fn outputs(&self) -> usize {
            1
        }
        fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
            vec![x[0] * x[1]]
        }
    }
    // ∂/∂x0 = x1 = 0 here, but the entry exists elsewhere.
    let p = sparse::jacobian_sparsity(&F, &[3.0, 0.0]);
    assert_eq!(p.to_string(), "**\n");
}

#[test]
fn a_pattern_that_misses_a_nonzero_is_reported() {
    /// A branch: x0 · x1 for x0 > 0, x0 · x2 otherwise.
    struct Branchy;
    impl VectorFunction for Branchy {
        fn dim(&self) -> usize {
            3
        }
        fn outputs(&self) -> usize {
            2
        }
        fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
            let y0 = if x[0] > S::constant(0.0) {
                x[0] * x[1]
            } else {
                x[0] * x[2]
            };
            vec![y0, x[1] + x[2]]
        }
    }
    impl Differentiable for Branchy {
        fn dim(&self) -> usize {
            3
        }
        fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
            let y = VectorFunction::eval(self, x);
            y[0] * 1.0 + y[1]
        }
    }
    let here = [1.0, 2.0, 3.0];
    let there = [-1.0, 2.0, 3.0];
    for side in [Side::Forward, Side::Reverse] {
        let plan = JacobianPlan::detect(&Branchy, &here, side);
        assert_eq!(plan.sparsity().to_string(), "**.\n.**\n");
        plan.eval_checked(&Branchy, &here).unwrap();
        let err = plan.eval_checked(&Branchy, &there).unwrap_err();
        assert_eq!(err.probe.iter().map(|p| p.0).collect::<Vec<_>>(), vec![0]);
        assert!(err.to_string().contains("misses a nonzero"), "{err}");
        let err = sparse::check_jacobian(&plan, &Branchy, &there).unwrap_err();
        assert_eq!(err.missing, vec![(0, 2, -1.0)]);
    }
    let plan = HessianPlan::detect(&Branchy, &here);
    assert_eq!(plan.sparsity().to_string(), ".*.\n*..\n...\n");
    let err = plan.eval_checked(&Branchy, &there).unwrap_err();
    assert!(!err.probe.is_empty());
    let err = sparse::check_hessian(&plan, &Branchy, &there).unwrap_err();
    assert_eq!(err.missing, vec![(0, 2, 1.0), (2, 0, 1.0)]);
    // A replay of the program recorded here refuses the other branch.
    let program = reverse::record(|v| Differentiable::eval(&Branchy, v), &here);
    assert!(matches!(
        plan.eval_program(&program, &there),
        Err(reverse::ReplayError::ComparisonChanged { .. })
    ));
    let program = reverse::record_vector(|v| VectorFunction::eval(&Branchy, v), &here);
    let jplan = JacobianPlan::detect(&Branchy, &here, Side::Auto);
    assert!(jplan.eval_program(&program, &there).is_err());
    assert!(jplan.eval_program(&program, &[2.0, 5.0, -1.0]).is_ok());
}

#[test]
fn user_patterns_and_colourings() {
    // A tridiagonal pattern given by hand, a colouring given by hand.
    let n = 12;
    let p = Sparsity::from_entries(
        n,
        n,
        (0..n).flat_map(|i| (i.saturating_sub(1)..(i + 2).min(n)).map(move |j| (i, j))),
    );
    let c = colour::Colouring::new((0..n).map(|j| j % 3).collect());
    let plan = JacobianPlan::with_colouring(p.clone(), Side::Forward, c.clone());
    let f = Banded { n, b: 1 };
    let x = point(n, 11);
    assert_matches(
        &plan.eval(&f, &x).1,
        &forward::jacobian(|v| f.eval(v), &x).1,
    );
    let h = HessianPlan::with_colouring(p, c);
    let (_, _, dense) = reverse::hessian(|v| Chain(n).eval(v), &x);
    assert_matches(&h.eval(&Chain(n), &x).2, &dense);
}

#[test]
#[should_panic(expected = "not a valid column colouring")]
fn a_bad_colouring_panics() {
    let p = Sparsity::from_entries(2, 2, [(0, 0), (0, 1)]);
    JacobianPlan::with_colouring(p, Side::Forward, colour::Colouring::new(vec![0, 0]));
}

#[test]
#[should_panic(expected = "the plan's pattern is 3 × 3 but the function has 4 outputs")]
fn a_plan_for_another_function_panics() {
    let plan = JacobianPlan::detect(&Banded { n: 3, b: 1 }, &[0.1; 3], Side::Auto);
    plan.eval(&Banded { n: 4, b: 1 }, &[0.1; 4]);
}

#[test]
#[should_panic(expected = "sparse::HessianPlan: the gradient buffer has 2 entries but x has 3")]
fn a_short_gradient_buffer_panics_naming_the_method_called() {
    let x = [0.1; 3];
    let plan = HessianPlan::detect(&Chain(3), &x);
    let mut values = vec![0.0; plan.sparsity().nnz()];
    plan.values_with(
        &mut sparse::Workspace::default(),
        &Chain(3),
        &x,
        &mut values,
        &mut [0.0; 2],
    );
}

// CKernels: the hot loops of DeepSwift's tensor core.
//
// Every entry point takes raw buffers and element counts; the Swift side checks
// shapes and dtypes before calling. Each loop is compiled twice, for AVX2+FMA and
// for the x86-64 baseline, and the variant is chosen once at run time.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CK_F32 = 0, CK_F64 = 1, CK_I32 = 2, CK_I64 = 3, CK_U8 = 4, CK_BOOL = 5
} ck_dtype;

typedef enum {
    CK_ADD = 0, CK_SUB, CK_MUL, CK_DIV, CK_MAX, CK_MIN, CK_POW,
    // Comparisons write 0/1 bytes (the bool dtype).
    CK_EQ, CK_NE, CK_LT, CK_LE, CK_GT, CK_GE,
    // Logical ops on bool inputs.
    CK_AND, CK_OR, CK_XOR
} ck_binary_op;

typedef enum {
    CK_NEG = 0, CK_ABS, CK_SIGN, CK_SQUARE, CK_SQRT, CK_RSQRT, CK_EXP, CK_LOG,
    CK_LOG1P, CK_EXPM1, CK_TANH, CK_SIGMOID, CK_RELU, CK_SOFTPLUS, CK_SIN, CK_COS,
    CK_FLOOR, CK_CEIL, CK_ROUND, CK_RECIPROCAL, CK_NOT, CK_ERF
} ck_unary_op;

typedef enum { CK_SUM = 0, CK_PROD, CK_MAXR, CK_MINR, CK_ANY, CK_ALL } ck_reduce_op;

/// The instruction-set levels the kernels come in. Each kernel family has one
/// function table, filled for a level once at load (as PyTorch's DispatchStub).
typedef enum {
    CK_ISA_BASELINE = 0,  ///< x86-64 scalar code and libm
    CK_ISA_AVX2 = 2,      ///< AVX2 + FMA, SLEEF's _u10avx2 functions
    CK_ISA_AVX512 = 3,    ///< AVX-512 F/DQ/BW/VL, SLEEF's _u10avx512f functions
} ck_isa_level_t;

/// The level the kernels run with: the best the CPU has, or what the
/// DEEPSWIFT_ISA environment variable (baseline, avx2, avx512) asked for at load.
int ck_isa_level(void);

/// The best level this CPU (and OS) supports.
int ck_isa_supported(void);

/// Chooses the level (tests run every level the CPU has); a level the CPU lacks
/// is lowered to the best it has. Returns the level now in force.
int ck_set_isa_level(int level);

/// The level a DEEPSWIFT_ISA value names ("baseline", "avx2", "avx512", any case),
/// or -1 for anything else.
int ck_isa_parse(const char *name);

/// "baseline", "avx2" or "avx512".
const char *ck_isa_name(int level);

/// A range of a parallel loop: runs elements [begin, end) of the job `ctx` describes.
typedef void (*ck_range_fn)(void *ctx, ptrdiff_t begin, ptrdiff_t end);

/// Runs fn over [0, n) split across the intra-op threads when n holds at least two
/// `grain`s of work, else on the calling thread. Returns when every part is done.
/// The parts depend only on n, grain and the thread count: when the pool is busy
/// (another caller, or a call from inside a part) the same parts run here in turn.
void ck_parallel_for(ptrdiff_t n, ptrdiff_t grain, ck_range_fn fn, void *ctx);

/// How many threads (the caller included) a parallel kernel may use; by default
/// the CPUs this process may run on (its affinity mask and its container's CPU
/// quota), at most 16.
int ck_thread_count(void);

/// Sets that count (<= 0 restores the default); returns the count now in force.
int ck_set_thread_count(int count);

/// The whole CPUs a cgroup quota allows (rounded up), from cgroup v2's cpu.max
/// text, or else v1's cfs_quota_us and cfs_period_us texts; 0 when unlimited or
/// unreadable. The default thread count is never above it.
int ck_cpu_quota_limit(const char *cpu_max, const char *cfs_quota, const char *cfs_period);

/// out[i] = a[i*sa] op b[i*sb] for i in 0..<n (strides in elements, usually 0 or 1).
/// Comparisons write bytes. Returns nonzero if an integer division by zero was seen.
int ck_binary(ck_binary_op op, ck_dtype dt, const void *a, ptrdiff_t sa,
              const void *b, ptrdiff_t sb, void *out, ptrdiff_t n);

/// The N-d broadcasting form: `shape` is the output's shape (rank >= 1), the strides
/// are in elements (0 on broadcast axes); the output is contiguous.
int ck_binary_nd(ck_binary_op op, ck_dtype dt, int rank, const ptrdiff_t *shape,
                 const void *a, const ptrdiff_t *astrides,
                 const void *b, const ptrdiff_t *bstrides, void *out);

/// out[i] = op(x[i]) for contiguous buffers of one dtype.
void ck_unary(ck_unary_op op, ck_dtype dt, const void *x, void *out, ptrdiff_t n);

/// x clipped to [lo, hi] (scalars given as doubles, converted to the dtype).
void ck_clip(ck_dtype dt, const void *x, double lo, double hi, void *out, ptrdiff_t n);

/// Fills n elements with one value.
void ck_fill(ck_dtype dt, void *out, double value, ptrdiff_t n);

/// Converts n elements between dtypes (bool results are 0/1).
void ck_cast(ck_dtype from, const void *x, ck_dtype to, void *out, ptrdiff_t n);

/// Reduces the middle axis of a contiguous [outer, r, inner] buffer into [outer, inner].
void ck_reduce(ck_reduce_op op, ck_dtype dt, ptrdiff_t outer, ptrdiff_t r, ptrdiff_t inner,
               const void *x, void *out);

/// Running sums along the middle axis of a contiguous [outer, n, inner] float
/// buffer: out[o, k, i] = Σ x[o, j, i] over j ≤ k (j < k when `exclusive`; from
/// the end when `reverse`), accumulated in double.
void ck_cumsum(ck_dtype dt, ptrdiff_t outer, ptrdiff_t n, ptrdiff_t inner, const void *x, void *out,
               int exclusive, int reverse);

/// out[r, j] = x[r, idx[r, j]] for `rows` rows of `n` elements and `k` indices
/// each (elements of `size` bytes). Returns 0, or 1 when an index is outside 0..<n.
int ck_take_along_last(size_t size, ptrdiff_t rows, ptrdiff_t n, ptrdiff_t k, const void *x, const int64_t *idx,
                       void *out);

/// out[r, :] = 0, then out[r, idx[r, j]] += g[r, j] (float32 or float64): the
/// adjoint of ck_take_along_last. Returns 0, or 1 for an index outside 0..<n.
int ck_put_along_last(ck_dtype dt, ptrdiff_t rows, ptrdiff_t n, ptrdiff_t k, const void *g, const int64_t *idx,
                      void *out);

/// Softmax (log_softmax when `log` is 1) of each contiguous row of length n, for
/// float32 or float64: one pass for the maximum, one for the sum, one to write.
void ck_softmax_rows(int log, ck_dtype dt, const void *x, void *out, ptrdiff_t rows, ptrdiff_t n);

/// out[i] = x[i] > 0 ? g[i] : 0 (the gradient of relu), for float32 or float64.
void ck_relu_grad(ck_dtype dt, const void *g, const void *x, void *out, ptrdiff_t n);

/// Normal deviates by Box–Muller: for each pair i, with r = sqrt(-2 log u1[i]) and
/// θ = 2π u2[i], out[2i] = mean + stddev·r·cos θ and out[2i+1] = mean + stddev·r·sin θ.
/// u1 must be in (0, 1].
void ck_box_muller(const double *u1, const double *u2, double *out, ptrdiff_t pairs, double mean, double stddev);

/// out = (g * y) * (1 - y): sigmoid's gradient from its output y, in one pass (the
/// same rounding as the three separate ops).
void ck_sigmoid_grad(ck_dtype dt, const void *g, const void *y, void *out, ptrdiff_t n);

/// Index of the max (is_max = 1) or min along the middle axis of [outer, r, inner],
/// first occurrence wins, written as int64.
void ck_argreduce(int is_max, ck_dtype dt, ptrdiff_t outer, ptrdiff_t r, ptrdiff_t inner,
                  const void *x, int64_t *out);

/// out = where(cond, a, b) with broadcasting strides as in ck_binary_nd.
void ck_select_nd(size_t elem_size, int rank, const ptrdiff_t *shape,
                  const uint8_t *cond, const ptrdiff_t *cstrides,
                  const void *a, const ptrdiff_t *astrides,
                  const void *b, const ptrdiff_t *bstrides, void *out);

/// For each outer block o and each of `count` indices: copies row `indices[j]` of
/// `src` (rows of `row_bytes`, `rows` per block) to row j of `dst`. Returns the
/// position of the first index outside [0, rows), or -1 when all are valid (then
/// everything was copied).
ptrdiff_t ck_gather_rows(const void *src, ptrdiff_t outer, ptrdiff_t rows, size_t row_bytes,
                         const int64_t *indices, ptrdiff_t count, void *dst);

/// out[i, j] = a[i] * b[j] for an m×n result (a matrix product with inner size 1,
/// which BLAS would first zero and pack), float32 or float64.
void ck_outer(ck_dtype dt, const void *a, const void *b, void *out, ptrdiff_t m, ptrdiff_t n);

/// Fused, in-place optimizer updates over one variable (float32 or float64), with
/// Keras's formulas. `m`, `v`, `vhat` are the optimizer's state buffers. Each reads
/// the gradient as g·gscale (1 for plain updates; 1/size for summed gradients that
/// are averaged over processes, saving a pass over them).
/// SGD: with momentum, m = momentum·m - lr·g; w += nesterov ? momentum·m - lr·g : m.
void ck_sgd_update(ck_dtype dt, void *w, const void *g, void *m, ptrdiff_t n,
                   double lr, double momentum, int nesterov, double gscale);
/// Adam: m += (g - m)(1 - β1); v += (g² - v)(1 - β2); w -= lr_t·m / (√v̂ + ε), where
/// v̂ = max(v̂, v) with amsgrad (vhat non-null) and lr_t carries the bias correction.
/// A nonzero `decay` first applies decoupled weight decay w -= w·decay (AdamW).
void ck_adam_update(ck_dtype dt, void *w, const void *g, void *m, void *v, void *vhat, ptrdiff_t n,
                    double lr_t, double beta1, double beta2, double epsilon, double decay, double gscale);
/// RMSprop: v = ρv + (1-ρ)g²; with `avg` (centered) a = ρa + (1-ρ)g, d = v - a² + ε,
/// else d = v + ε; step = lr·g/√d; with `mom` (momentum > 0) mom = momentum·mom + step,
/// w -= mom, else w -= step.
void ck_rmsprop_update(ck_dtype dt, void *w, const void *g, void *v, void *avg, void *mom, ptrdiff_t n,
                       double lr, double rho, double momentum, double epsilon, double gscale);
/// Adagrad: acc += g²; w -= lr·g/√(acc + ε).
void ck_adagrad_update(ck_dtype dt, void *w, const void *g, void *acc, ptrdiff_t n, double lr, double epsilon,
                       double gscale);

/// Strided N-d copy of elements of `elem_size` bytes; strides in elements.
void ck_copy_nd(size_t elem_size, int rank, const ptrdiff_t *shape,
                const void *src, const ptrdiff_t *sstrides,
                void *dst, const ptrdiff_t *dstrides);

/// Sets flush-to-zero and denormals-are-zero on the calling thread (as TensorFlow does).
void ck_flush_denormals(void);

/// Asks the kernel to back the 2 MiB-aligned interior of [p, p + bytes) with huge
/// pages (where transparent huge pages are in "madvise" mode): random row reads
/// of a dataset tensor then miss the TLB far less often.
void ck_advise_huge_pages(void *p, size_t bytes);

// Thread-local state read on every tensor op. The accessors are inline so that
// Swift callers pay a %fs-relative load, not a call (an op with no tape active
// must cost no more than it did before autodiff existed).
#define CK_TLS_IE __attribute__((tls_model("initial-exec")))
extern _Thread_local uint64_t ck_id_next CK_TLS_IE;
extern _Thread_local uint64_t ck_id_end CK_TLS_IE;
extern _Thread_local void *ck_recorders CK_TLS_IE;
extern _Thread_local void *ck_tapes CK_TLS_IE;
extern _Thread_local void *ck_reuse CK_TLS_IE;

/// Takes a new block of ids for this thread and returns its first.
uint64_t ck_next_id_block(void);

/// A process-wide unique, nonzero tensor identity (threads take blocks of ids,
/// so this is a thread-local increment, not an atomic one).
static inline uint64_t ck_next_id(void) {
    if (__builtin_expect(ck_id_next != ck_id_end, 1)) return ck_id_next++;
    return ck_next_id_block();
}

/// The recorders observing ops on the calling thread (gradient tapes, a compiled
/// function's tracer), or null when none is: TensorCore's one recorder hook.
static inline void *ck_recorder_set(void) { return ck_recorders; }
static inline void ck_set_recorder_set(void *recorders) { ck_recorders = recorders; }
/// The calling thread's recorder set whether or not it is installed (kept for the
/// thread's lifetime, so installing the first recorder allocates nothing).
void *ck_recorder_home(void);
void ck_set_recorder_home(void *recorders);

/// The calling thread's gradient-tape stack (installed as a recorder or not),
/// owned by the Autodiff module.
static inline void *ck_tape_stack(void) { return ck_tapes; }
static inline void ck_set_tape_stack(void *tapes) { ck_tapes = tapes; }

/// A tensor storage a replaying compiled function offers to the next allocation of
/// its size and dtype (unretained), or null.
static inline void *ck_reusable_storage(void) { return ck_reuse; }
static inline void ck_set_reusable_storage(void *storage) { ck_reuse = storage; }

/// The name scopes of the calling thread (what error messages cite), owned by
/// TensorCore's `withNameScope`.
void *ck_call_context(void);
void ck_set_call_context(void *context);

/// The layer-call state of the calling thread (training flag, call depth), owned
/// by the DeepSwift module's `Layer`.
void *ck_layer_call_context(void);
void ck_set_layer_call_context(void *context);

/// The calling thread's random generator: four words of xoshiro256 state and a
/// fifth that is nonzero once they are seeded, owned by TensorCore's Random.
uint64_t *ck_thread_random_state(void);


/// Sliding-window geometry for convolutions and pooling over channels-last data
/// (N, D0, D1, D2, C), as 20 integers: batch, channels, then three each of the
/// input sizes, window sizes, output sizes, strides, dilations and padding before
/// the first element. Data with fewer spatial axes pad them at the front with
/// size 1 (window 1, stride 1, dilation 1, padding 0).
///
/// im2col of output rows [r0, r1) (row r = the flat output position over N and
/// the spatial axes): col[r - r0, ((a·K1 + b)·K2 + c)·C + ch] = the input under
/// window element (a, b, c), channel ch, or 0 in the padding. float32 or float64.
void ck_im2col(ck_dtype dt, const ptrdiff_t *geometry, const void *x, void *col, ptrdiff_t r0, ptrdiff_t r1);

/// The adjoint of ck_im2col: adds col's rows [r0, r1) back into x (which the
/// caller cleared). Rows of different images never touch the same elements.
void ck_col2im(ck_dtype dt, const ptrdiff_t *geometry, const void *col, void *x, ptrdiff_t r0, ptrdiff_t r1);

/// Max pooling of images [n0, n1): y = the maximum of each window over the real
/// (unpadded) elements; NaN propagates.
void ck_max_pool(ck_dtype dt, const ptrdiff_t *geometry, const void *x, void *y, ptrdiff_t n0, ptrdiff_t n1);

/// Max pooling's gradient for images [n0, n1): dx = 0, then each window's g goes
/// to the first maximum of the window in row-major order (TensorFlow's choice).
void ck_max_pool_backprop(ck_dtype dt, const ptrdiff_t *geometry, const void *x, const void *g, void *dx,
                          ptrdiff_t n0, ptrdiff_t n1);

/// The adjoint of ck_max_pool_backprop in its gradient: out (pooled shape) = gg
/// at each window's first maximum.
void ck_max_pool_select(ck_dtype dt, const ptrdiff_t *geometry, const void *x, const void *gg, void *out,
                        ptrdiff_t n0, ptrdiff_t n1);

/// Average pooling of images [n0, n1) over the real elements of each window
/// (backward 0: src = x, dst = y), or its adjoint (backward 1: src = g, dst = dx,
/// cleared first).
void ck_avg_pool(int backward, ck_dtype dt, const ptrdiff_t *geometry, const void *src, void *dst, ptrdiff_t n0,
                 ptrdiff_t n1);

/// Direct convolution of output rows [r0, r1) for inputs with few channels, where
/// im2col + GEMM has a tiny inner dimension: y (rows × outChannels) = bias (or 0
/// when NULL) + the sum over each window's real taps and input channels of
/// x · kernel (window…, in, out), passed through relu when `relu` is nonzero.
void ck_conv_direct(ck_dtype dt, const ptrdiff_t *geometry, const void *x, const void *kernel, const void *bias,
                    int relu, ptrdiff_t outChannels, void *y, ptrdiff_t r0, ptrdiff_t r1);

/// The direct kernel gradient for few input channels: dw (window·in × out) += the
/// sum over output rows [r0, r1) of each real tap's x times dy's row.
void ck_conv_filter_direct(ck_dtype dt, const ptrdiff_t *geometry, const void *x, const void *dy,
                           ptrdiff_t outChannels, void *dw, ptrdiff_t r0, ptrdiff_t r1);

/// This thread's scratch buffer `slot` (0 or 1) of at least `bytes` bytes
/// (64-byte aligned), grown when too small and kept for the next call, so a loop
/// of identical ops allocates nothing; NULL when memory runs out. Growing frees
/// the old contents.
void *ck_scratch(int slot, size_t bytes);

#endif

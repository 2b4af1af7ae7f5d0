// The per-thread slots the Swift modules keep their thread-local state in: tensor
// identities, the recorder set (tapes, tracer), buffer offers, name scopes, the layer-call state
// and the random generator. C's _Thread_local with the initial-exec model is a
// plain %fs-relative load, cheaper than any Swift thread-local.
#include "internal.h"
#include <stdatomic.h>

#define CK_TLS __attribute__((tls_model("initial-exec")))
_Thread_local uint64_t ck_id_next CK_TLS = 0;
_Thread_local uint64_t ck_id_end CK_TLS = 0;
static _Atomic uint64_t ck_id_blocks = 0;

uint64_t ck_next_id_block(void) {
    uint64_t block = atomic_fetch_add_explicit(&ck_id_blocks, 1, memory_order_relaxed);
    ck_id_next = (block << 20) + 1;
    ck_id_end = (block + 1) << 20;
    return ck_id_next++;
}

_Thread_local void *ck_recorders CK_TLS = 0;
_Thread_local void *ck_tapes CK_TLS = 0;
static _Thread_local void *ck_recorders_home CK_TLS = 0;

void *ck_recorder_home(void) { return ck_recorders_home; }
void ck_set_recorder_home(void *recorders) { ck_recorders_home = recorders; }
_Thread_local void *ck_reuse CK_TLS = 0;

static _Thread_local void *ck_call CK_TLS = 0;

void *ck_call_context(void) { return ck_call; }
void ck_set_call_context(void *context) { ck_call = context; }

static _Thread_local void *ck_layer_call CK_TLS = 0;

void *ck_layer_call_context(void) { return ck_layer_call; }
void ck_set_layer_call_context(void *context) { ck_layer_call = context; }

static _Thread_local uint64_t ck_random[5] CK_TLS;

uint64_t *ck_thread_random_state(void) { return ck_random; }

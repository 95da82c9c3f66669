/* tinygen runtime: portable reference kernels, bit-exact with TFLite Micro's int8 kernels, and
 * optimised twins (tg_<op>_<dtype>_fast) that give the same bits faster where their conditions hold.
 *
 * One function per file in runtime_c/kernels/, named tg_<op>[_<variant>]_<dtype>. A kernel that
 * needs scratch memory has tg_<op>_buffer_size() beside it; the planner reserves that many
 * bytes in the arena and the generated code passes them in. Kernels never allocate.
 */
#ifndef TINYGEN_TG_KERNELS_H
#define TINYGEN_TG_KERNELS_H

#include "tinygen/tg_types.h"
#include "tinygen/tg_conv.h"
#include "tinygen/tg_depthwise.h"
#include "tinygen/tg_fully_connected.h"
#include "tinygen/tg_pooling.h"
#include "tinygen/tg_shape_ops.h"
#include "tinygen/tg_elementwise.h"
#include "tinygen/tg_nonlinear.h"
#include "tinygen/tg_data_movement.h"
#include "tinygen/tg_binary.h"
#include "tinygen/tg_copy_window.h"
#include "tinygen/tg_wide.h"
#include "tinygen/tg_misc_ops.h"
#include "tinygen/tg_recurrent.h"
#include "tinygen/tg_int16.h"
#include "tinygen/tg_dsp.h"
#include "tinygen/tg_rv.h"
#include "tinygen/tg_mve.h"

#endif /* TINYGEN_TG_KERNELS_H */

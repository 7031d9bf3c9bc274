#pragma once
// Glorot/Xavier-uniform initialisation of a weight layer as the SNGAN (chainer GlorotUniform) and
// SAGAN (tf.contrib.layers.xavier_initializer) reference code use it: the weight (weight_orig of a
// spectrally normalised layer) ~ xavier_uniform(gain), the bias (if any) 0.
#include "engine/nn/module.h"
#include "engine/random/generator.h"

namespace gantry::models {

// `layer` is a Linear, Conv2d, Embedding or a SpectralNormed wrapper of one: a module whose own
// parameters are "weight" or "weight_orig" and optionally "bias".
void xavier_init_layer(nn::Module& layer, double gain, Generator& gen);

}  // namespace gantry::models

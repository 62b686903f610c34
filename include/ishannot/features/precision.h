#pragma once
// The arithmetic of a CNN forward pass (extract, annotate's CNN features, the demo): fp32, or
// bf16 where the CPU multiplies bfloat16 in hardware (AVX512-BF16 or AMX; oneDNN picks the
// kernels). Torch-free: the CLI parses it, the store records it (attribute `precision`), and
// infer/plan_engine.h runs it. bf16 keeps float32 accumulation, inputs and stored features; only
// activations and weights between layers are rounded to bfloat16 (8 significant bits): ResNet50's
// res4f features differ from fp32 by ~2 % (docs/BENCHMARKS.md, "Against ONNX Runtime, bf16,
// start-up").
#include <string>

namespace ishannot {

enum class Precision { kFp32, kBf16 };

/// "fp32" | "bf16".
std::string precision_name(Precision precision);

/// Error "unknown precision 'x' (expected fp32 or bf16)".
Precision parse_precision(const std::string& name);

}  // namespace ishannot

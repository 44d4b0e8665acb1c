/** Detects quantized / half-precision graphs: their activation magnitudes are not the fp32 model's. */
import { DataType, type ModelProto } from './onnx.js';

export type Precision = 'fp32' | 'fp16' | 'bf16' | 'int8' | 'int4' | 'mixed';

const QUANT_OPS = new Set(['DequantizeLinear', 'QuantizeLinear', 'DynamicQuantizeLinear', 'MatMulInteger', 'QLinearMatMul', 'QLinearConv', 'ConvInteger', 'MatMulNBits', 'DynamicQuantizeMatMul', 'QAttention']);

export function detectPrecision(model: ModelProto): Precision {
  const kinds = new Set<Precision>();
  for (const t of model.graph?.initializer ?? []) {
    const dt = t.dataType ?? 0;
    const count = (t.dims ?? []).reduce((a: number, d) => a * Number(d), 1);
    if (count < 64) continue; // shape constants and scales say nothing about weight precision
    if (dt === DataType.FLOAT) kinds.add('fp32');
    else if (dt === DataType.FLOAT16) kinds.add('fp16');
    else if (dt === DataType.BFLOAT16) kinds.add('bf16');
    else if (dt === DataType.INT8 || dt === DataType.UINT8) kinds.add('int8');
    else if (dt === 22 || dt === 21) kinds.add('int4'); // INT4 / UINT4 (IR 10)
  }
  const quantOps = (model.graph?.node ?? []).some((n) => QUANT_OPS.has(n.opType ?? ''));
  if (quantOps && !kinds.has('int4')) kinds.add('int8');
  if (kinds.size === 0) return 'fp32';
  for (const p of ['int4', 'int8', 'fp16', 'bf16'] as const) if (kinds.has(p)) return kinds.size > 2 ? 'mixed' : p;
  return 'fp32';
}

export function precisionWarning(p: Precision): string | undefined {
  return p === 'fp32'
    ? undefined
    : `The model's weights are ${p}: quantized and half-precision files change activation magnitudes, so massive-activation values are not those of the fp32 model. Scan the fp32 model.onnx for results you can compare with papers.`;
}

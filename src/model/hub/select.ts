/**
 * Which files of a repo a pull takes: config.json, preprocessor_config.json and one ONNX graph (plus its
 * external-data files). transformers.js repos keep `onnx/model[_variant].onnx`; CLIP repos also hold the
 * text tower and the joint model, of which only `vision_model[_variant].onnx` is an image model.
 * A variant is saved under the plain name (onnx/model.onnx, onnx/vision_model.onnx) so `loadModel` finds it;
 * the loader detects its precision from the graph itself, whatever the file is called.
 */
import { posix } from 'node:path';
import { MassivitError, badModel, invalidOption } from '../../contracts/errors.js';
import type { RemoteFile, RepoInfo } from './client.js';

export const DEFAULT_VARIANT = 'fp32';

/** Variants transformers.js repos publish; others found in a repo are accepted too. */
export const KNOWN_VARIANTS = ['fp32', 'fp16', 'q4', 'q4f16', 'quantized', 'int8', 'uint8', 'bnb4'] as const;

export interface PlannedFile {
  remote: RemoteFile;
  /** Relative path inside models/<name>/. */
  local: string;
  role: 'config' | 'preprocessor' | 'onnx' | 'onnx-data';
}

export interface Selection {
  files: PlannedFile[];
  onnx: PlannedFile;
  variant: string;
  /** The CLIP vision tower was chosen out of a repo that also has other towers. */
  visionTower: boolean;
  warnings: string[];
}

const ONNX_NAME = /^(?:(.+)\/)?(model|vision_model)(?:_([A-Za-z0-9]+))?\.onnx$/;

interface Candidate {
  file: RemoteFile;
  dir: string;
  stem: 'model' | 'vision_model';
  variant: string;
}

function candidates(info: RepoInfo): Candidate[] {
  const out: Candidate[] = [];
  for (const file of info.files) {
    const m = ONNX_NAME.exec(file.path);
    if (!m || (m[1] !== undefined && m[1] !== 'onnx')) continue;
    out.push({ file, dir: m[1] ?? '', stem: m[2] as Candidate['stem'], variant: m[3] ?? DEFAULT_VARIANT });
  }
  return out;
}

/** External data written next to an ONNX file: `model.onnx_data`, `model.onnx_data_1`, `model.onnx.data`. */
function externalData(info: RepoInfo, onnxPath: string): RemoteFile[] {
  const dir = posix.dirname(onnxPath);
  const base = posix.basename(onnxPath);
  return info.files.filter((f) => {
    if (posix.dirname(f.path) !== dir || f.path === onnxPath) return false;
    const b = posix.basename(f.path);
    return b.startsWith(`${base}_data`) || b === `${base}.data`;
  });
}

function describeAvailable(cands: Candidate[]): string {
  return cands.length ? cands.map((c) => `${c.variant} (${c.file.path})`).join(', ') : 'no model.onnx / vision_model.onnx files at all';
}

/** The ONNX file for a variant, or the one `--file` names. */
function chooseOnnx(info: RepoInfo, variant: string, file?: string): { file: RemoteFile; local: string; visionTower: boolean } {
  const cands = candidates(info);
  const hasVision = cands.some((c) => c.stem === 'vision_model');
  if (file !== undefined) {
    const hit = info.files.find((f) => f.path === file);
    if (!hit) {
      const onnx = info.files.filter((f) => f.path.endsWith('.onnx')).map((f) => f.path);
      throw new MassivitError('BAD_OPTION', `Expected a file of ${info.repo} for --file but received '${file}'`, `ONNX files in the repo: ${onnx.join(', ') || 'none'}`);
    }
    const m = ONNX_NAME.exec(file);
    const local = m ? `${m[1] ? `${m[1]}/` : ''}${m[2]}.onnx` : posix.join(posix.dirname(file), 'model.onnx');
    return { file: hit, local, visionTower: m?.[2] === 'vision_model' };
  }
  if (!/^[A-Za-z0-9]+$/.test(variant)) throw invalidOption('--variant', `one of ${KNOWN_VARIANTS.join(', ')}`, variant);
  // A CLIP repo's model.onnx is the joint text+image model (it needs input_ids): only the vision tower scans.
  const stem = hasVision ? 'vision_model' : 'model';
  const matching = cands.filter((c) => c.stem === stem && c.variant === variant).sort((a, b) => (a.dir === 'onnx' ? -1 : 1) - (b.dir === 'onnx' ? -1 : 1));
  const chosen = matching[0];
  if (!chosen) {
    const available = cands.filter((c) => c.stem === stem);
    throw new MassivitError('BAD_OPTION', `Variant '${variant}' is not in ${info.repo}@${info.commit.slice(0, 7)}: available ${describeAvailable(available)}`, 'Pick one with --variant, or name a file with --file.');
  }
  return { file: chosen.file, local: `${chosen.dir ? `${chosen.dir}/` : ''}${stem}.onnx`, visionTower: hasVision };
}

export function selectFiles(info: RepoInfo, variant: string = DEFAULT_VARIANT, file?: string): Selection {
  const config = info.files.find((f) => f.path === 'config.json');
  if (!config) throw badModel(`${info.repo} has no config.json: massivit needs it for the model family, layers and token layout`);
  const warnings: string[] = [];
  const files: PlannedFile[] = [{ remote: config, local: 'config.json', role: 'config' }];
  const pre = info.files.find((f) => f.path === 'preprocessor_config.json');
  if (pre) files.push({ remote: pre, local: 'preprocessor_config.json', role: 'preprocessor' });
  else warnings.push(`${info.repo} has no preprocessor_config.json: massivit will assume ImageNet-style 224 px preprocessing`);
  const chosen = chooseOnnx(info, variant, file);
  const onnx: PlannedFile = { remote: chosen.file, local: chosen.local, role: 'onnx' };
  files.push(onnx);
  // External data keeps its own name: the graph refers to it by that name.
  const localDir = posix.dirname(chosen.local);
  for (const data of externalData(info, chosen.file.path)) files.push({ remote: data, local: posix.join(localDir, posix.basename(data.path)), role: 'onnx-data' });
  const effective = file !== undefined ? variantOf(file) : variant;
  return { files, onnx, variant: effective, visionTower: chosen.visionTower, warnings };
}

function variantOf(path: string): string {
  return ONNX_NAME.exec(path)?.[3] ?? (/_(fp16|q4f16|q4|quantized|int8|uint8|bnb4)\.onnx$/.exec(path)?.[1] ?? DEFAULT_VARIANT);
}

/** The loud warning for anything but fp32: magnitudes are the point of a massive-activation scan. */
export function variantWarning(variant: string): string | undefined {
  if (variant === DEFAULT_VARIANT) return undefined;
  const kind = variant === 'fp16' || variant === 'bf16' ? 'half-precision' : 'quantized';
  return `WARNING: '${variant}' is a ${kind} export. Quantized and half-precision weights change activation magnitudes, so the massive activations massivit reports will not be those of the fp32 model (and may be missing or invented). Pull the default fp32 model.onnx for results you can compare with papers.`;
}

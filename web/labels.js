/*
 * labels.js — drawing node labels and the hover card on sigma's canvas
 * (dark theme).
 */
import { state } from './model.js';

export const LABEL_FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

export function labelFont(data) {
  if (data.level === 'root') return (state.small ? '600 13px ' : '600 15px ') + LABEL_FONT;
  if (data.level === 'intermediate') return '500 13px ' + LABEL_FONT;
  return '400 12px ' + LABEL_FONT;
}

export function drawLabel(ctx, data) {
  if (!data.label) return;
  ctx.font = labelFont(data);
  const left = data.labelSide === 'left';
  ctx.textAlign = left ? 'right' : 'left';
  const x = left ? data.x - data.size - 4 : data.x + data.size + 4;
  const y = data.y + 4;
  ctx.lineWidth = 3;
  ctx.strokeStyle = 'rgba(15, 19, 26, 0.85)';
  ctx.lineJoin = 'round';
  ctx.strokeText(data.label, x, y);
  ctx.fillStyle = data.level === 'band' ? '#f4f6fa' : '#dfe6f0';
  ctx.fillText(data.label, x, y);
  ctx.textAlign = 'left';
}

export function drawHover(ctx, data) {
  ctx.font = labelFont(data);
  const label = data.label || '';
  const w = ctx.measureText(label).width;
  const pad = 5;
  const hgt = 22;
  const x = data.x - data.size - pad;
  const y = data.y - hgt / 2;
  const width = data.size * 2 + pad * 2 + (label ? w + 6 : 0);
  const left = data.labelSide === 'left';
  const bx = left ? data.x + data.size + pad - width : x;
  ctx.beginPath();
  if (ctx.roundRect) ctx.roundRect(bx, y, width, hgt, hgt / 2);
  else ctx.rect(bx, y, width, hgt);
  ctx.fillStyle = 'rgba(24, 30, 41, 0.95)';
  ctx.shadowColor = 'rgba(0, 0, 0, 0.5)';
  ctx.shadowBlur = 10;
  ctx.fill();
  ctx.shadowBlur = 0;
  ctx.lineWidth = 1.5;
  ctx.strokeStyle = data.color || '#fff';
  ctx.stroke();
  if (label) {
    ctx.fillStyle = '#ffffff';
    ctx.textAlign = left ? 'right' : 'left';
    ctx.fillText(label, left ? data.x - data.size - 4 : data.x + data.size + 4, data.y + 4);
    ctx.textAlign = 'left';
  }
}

let measureCtx = null;
export function textWidth(text, font) {
  if (!measureCtx) measureCtx = document.createElement('canvas').getContext('2d');
  if (!measureCtx) return text.length * 7;
  measureCtx.font = font;
  return measureCtx.measureText(text).width;
}

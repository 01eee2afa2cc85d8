/**
 * A tiny XML well-formedness checker for the SVG renderer's output (no DOMParser in Deno):
 * matched and properly nested tags, one root element, quoted unique attributes, and `<`/`&`
 * only as markup or entity starts. Returns the element names in document order.
 *
 * @module
 */

const NAME = /^[A-Za-z_:][A-Za-z0-9_.:-]*/;
const ENTITY = /^&(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#x[0-9A-Fa-f]+);/;

function checkText(text: string, where: number): void {
  for (let i = text.indexOf("&"); i >= 0; i = text.indexOf("&", i + 1)) {
    if (!ENTITY.test(text.slice(i))) {
      throw new Error(`bare '&' at ${where + i}: ${text.slice(i, i + 20)}`);
    }
  }
  if (text.includes("<")) throw new Error(`stray '<' in text at ${where}`);
}

/** Throws an Error describing the first well-formedness violation. */
export function checkWellFormedXml(xml: string): string[] {
  const stack: string[] = [];
  const elements: string[] = [];
  let roots = 0;
  let i = 0;
  if (xml.startsWith("<?xml")) {
    const end = xml.indexOf("?>");
    if (end < 0) throw new Error("unterminated XML declaration");
    i = end + 2;
  }
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    const text = xml.slice(i, lt < 0 ? xml.length : lt);
    if (stack.length === 0 && text.trim() !== "") {
      throw new Error(`text outside the root element at ${i}: ${text.slice(0, 20)}`);
    }
    checkText(text, i);
    if (lt < 0) break;
    if (xml.startsWith("<!--", lt)) {
      const end = xml.indexOf("-->", lt + 4);
      if (end < 0) throw new Error(`unterminated comment at ${lt}`);
      i = end + 3;
      continue;
    }
    if (xml.startsWith("</", lt)) {
      const m = NAME.exec(xml.slice(lt + 2));
      if (!m) throw new Error(`bad closing tag at ${lt}`);
      const close = xml.indexOf(">", lt);
      if (xml.slice(lt + 2 + m[0].length, close).trim() !== "") {
        throw new Error(`junk in closing tag at ${lt}`);
      }
      const open = stack.pop();
      if (open !== m[0]) throw new Error(`</${m[0]}> at ${lt} closes <${open ?? "nothing"}>`);
      i = close + 1;
      continue;
    }
    const m = NAME.exec(xml.slice(lt + 1));
    if (!m) throw new Error(`bad tag at ${lt}: ${xml.slice(lt, lt + 20)}`);
    const name = m[0];
    if (stack.length === 0) roots++;
    if (roots > 1) throw new Error(`second root element <${name}> at ${lt}`);
    elements.push(name);
    let j = lt + 1 + name.length;
    const seen = new Set<string>();
    for (;;) {
      const ws = /^\s*/.exec(xml.slice(j))![0].length;
      j += ws;
      if (xml.startsWith("/>", j)) {
        j += 2;
        break;
      }
      if (xml[j] === ">") {
        stack.push(name);
        j += 1;
        break;
      }
      if (ws === 0) throw new Error(`attributes of <${name}> at ${lt} need whitespace before them`);
      const an = NAME.exec(xml.slice(j));
      if (!an) throw new Error(`bad attribute in <${name}> at ${j}: ${xml.slice(j, j + 20)}`);
      if (seen.has(an[0])) throw new Error(`duplicate attribute ${an[0]} in <${name}> at ${j}`);
      seen.add(an[0]);
      j += an[0].length;
      if (xml[j] !== "=") throw new Error(`attribute ${an[0]} without value at ${j}`);
      const q = xml[j + 1];
      if (q !== '"' && q !== "'") throw new Error(`unquoted attribute ${an[0]} at ${j}`);
      const end = xml.indexOf(q, j + 2);
      if (end < 0) throw new Error(`unterminated attribute ${an[0]} at ${j}`);
      checkText(xml.slice(j + 2, end), j + 2);
      j = end + 1;
    }
    i = j;
  }
  if (stack.length) throw new Error(`unclosed <${stack.join("> <")}>`);
  if (roots !== 1) throw new Error("no root element");
  return elements;
}

/** All start tags `<name ...>` of the given element name, with their attributes parsed. */
export function elementsOf(xml: string, name: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  const re = new RegExp(`<${name}((?:\\s+[A-Za-z_:][A-Za-z0-9_.:-]*="[^"]*")*)\\s*/?>`, "g");
  for (const m of xml.matchAll(re)) {
    const attrs: Record<string, string> = {};
    for (const a of m[1].matchAll(/([A-Za-z_:][A-Za-z0-9_.:-]*)="([^"]*)"/g)) attrs[a[1]] = a[2];
    out.push(attrs);
  }
  return out;
}

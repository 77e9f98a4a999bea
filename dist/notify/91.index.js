export const id = 91;
export const ids = [91];
export const modules = {

/***/ 472:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {


// EXPORTS
__webpack_require__.d(__webpack_exports__, {
  parseStringMap: () => (/* reexport */ parseStringMap),
  parseStructured: () => (/* reexport */ parseStructured)
});

// UNUSED EXPORTS: InputError, Redactor, consoleLogger, errorMessage, fillTemplate, fillTemplateDeep, formatDuration, parseDuration, silentLogger, systemClock, templateNames

// EXTERNAL MODULE: ./packages/common/src/basics.ts + 3 modules
var basics = __webpack_require__(5893);
// EXTERNAL MODULE: ./node_modules/yaml/dist/index.js
var dist = __webpack_require__(8815);
// EXTERNAL MODULE: ./packages/common/src/errors.ts
var errors = __webpack_require__(9696);
;// CONCATENATED MODULE: ./packages/common/src/structured.ts
// The one YAML/JSON reader: YAML 1.2 is a superset of JSON, so one parser reads both, and its
// errors carry line and column so a bad file can be pointed at.


/** Parses YAML or JSON text. `source` names the input or file in errors. */
function parseStructured(text, source) {
    const lineCounter = new dist/* LineCounter */.HN();
    const doc = (0,dist/* parseDocument */.Tp)(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    const first = doc.errors[0];
    if (first) {
        const pos = lineCounter.linePos(first.pos[0]);
        throw new errors/* InputError */.d(source, `line ${pos.line}, column ${pos.col}: ${first.message.split('\n')[0]}`);
    }
    return {
        value: doc.toJS({ maxAliasCount: 100 }),
        lineOf(path) {
            // The line of the last key (a map entry's key, not its value, which may sit on a later
            // line) or of the sequence item the path ends at.
            let node = doc.contents;
            let line;
            for (const key of path) {
                if ((0,dist/* isMap */.jh)(node)) {
                    const pair = node.items.find((item) => ((0,dist/* isScalar */.jn)(item.key) ? item.key.value : item.key) === key);
                    if (!pair)
                        return undefined;
                    const keyRange = pair.key?.range;
                    line = keyRange ? lineCounter.linePos(keyRange[0]).line : undefined;
                    node = pair.value;
                }
                else if ((0,dist/* isSeq */.oP)(node)) {
                    node = node.get(key, true);
                    const range = node?.range;
                    line = range ? lineCounter.linePos(range[0]).line : undefined;
                }
                else {
                    return undefined;
                }
            }
            if (path.length === 0) {
                const range = node?.range;
                return range ? lineCounter.linePos(range[0]).line : undefined;
            }
            return line;
        },
    };
}
/** Parses a YAML/JSON mapping of strings (e.g. headers or fields inputs). */
function parseStringMap(text, source) {
    if (text.trim() === '')
        return {};
    const { value } = parseStructured(text, source);
    if (value === null || value === undefined)
        return {};
    if (typeof value !== 'object' || Array.isArray(value)) {
        throw new errors/* InputError */.d(source, 'must be a YAML or JSON mapping of names to values');
    }
    const out = {};
    for (const [key, v] of Object.entries(value)) {
        if (v !== null && typeof v === 'object')
            throw new errors/* InputError */.d(source, `value of '${key}' must be a scalar`);
        out[key] = v === null || v === undefined ? '' : String(v);
    }
    return out;
}

;// CONCATENATED MODULE: ./packages/common/src/index.ts
// Shared building blocks of the engines: errors, ports, durations, YAML/JSON, templates, redaction.




/***/ })

};

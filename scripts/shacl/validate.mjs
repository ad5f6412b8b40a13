#!/usr/bin/env node
// validate.mjs validates CASE/UCO JSON-LD files against the CASE 1.4.0
// ontology and its SHACL shapes, as the CASE project's own validator
// (case_validate, casework/CASE-Utilities-Python) does: the ontology is
// both the shapes graph and merged into the data graph, no inference is
// run, a result of any severity (Violation, Warning or Info) makes a file
// fail, and a term in a CASE or UCO namespace that the ontology does not
// define is an error.
//
//   node scripts/shacl/validate.mjs [--json] [--self-check] [--shapes FILE.ttl]... FILE.jsonld...
//
// --shapes replaces the default ontology files, custody/caseuco/testdata/
// case-1.4.0.ttl and case-1.4.0-subclasses.ttl. A JSON-LD file must carry
// its @context inline: nothing is ever fetched. --self-check first
// validates the ontology graph on its own (every focus node, every
// shape). --json prints one JSON object a file (file, conforms, results,
// triples, nodes, targeted, focus, checks) and a last one with the totals
// ({"summary": ...}), instead of text. The exit status is 0 when every file
// conforms, 1 when one does not, 2 on a usage or read error.
//
// Engines: rdf-validate-shacl for SHACL Core; SPARQL-based constraints
// (sh:sparql, which rdf-validate-shacl does not implement) run on
// Oxigraph, each query once over the merged graph, its rows kept where
// $this is a focus node of the constraint's shape. Focus nodes are the
// export's own nodes: a node of the ontology alone is not validated for
// each file, since the ontology alone conforms (--self-check shows it) and
// an export cannot change it (an export may not assert anything about a
// CASE/UCO term, which the term check below reports).
//
// Besides the shapes, the term check reports what case_validate reports and
// more: every CASE/UCO IRI used anywhere (including as a datatype) must be
// defined by the ontology; every predicate must be rdf:type or a property
// the ontology defines; every rdf:type a class it defines; every datatype
// XML Schema's or the ontology's; no subject a CASE/UCO term; and the data
// is in the default graph only.

import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import factory from '@rdfjs/data-model'
import datasetFactory from '@rdfjs/dataset'
import jsonld from 'jsonld'
import * as oxigraph from 'oxigraph'
import SHACLValidator from 'rdf-validate-shacl'

const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#'
const RDFS = 'http://www.w3.org/2000/01/rdf-schema#'
const OWL = 'http://www.w3.org/2002/07/owl#'
const SH = 'http://www.w3.org/ns/shacl#'
const XSD = 'http://www.w3.org/2001/XMLSchema#'
const CDO = ['https://ontology.unifiedcyberontology.org/', 'https://ontology.caseontology.org/']
const isCDO = iri => CDO.some(p => iri.startsWith(p))
const nn = iri => factory.namedNode(iri)

const prefixes = [
  ['uco-action:', 'https://ontology.unifiedcyberontology.org/uco/action/'],
  ['uco-core:', 'https://ontology.unifiedcyberontology.org/uco/core/'],
  ['uco-identity:', 'https://ontology.unifiedcyberontology.org/uco/identity/'],
  ['uco-observable:', 'https://ontology.unifiedcyberontology.org/uco/observable/'],
  ['uco-role:', 'https://ontology.unifiedcyberontology.org/uco/role/'],
  ['uco-tool:', 'https://ontology.unifiedcyberontology.org/uco/tool/'],
  ['uco-types:', 'https://ontology.unifiedcyberontology.org/uco/types/'],
  ['uco-vocabulary:', 'https://ontology.unifiedcyberontology.org/uco/vocabulary/'],
  ['case-investigation:', 'https://ontology.caseontology.org/case/investigation/'],
  ['sh:', SH], ['xsd:', XSD], ['rdf:', RDF], ['rdfs:', RDFS], ['owl:', OWL]
]

// short writes a term for people: a prefixed name where one fits.
function short (term) {
  if (!term) return '-'
  switch (term.termType) {
    case 'NamedNode':
      for (const [p, ns] of prefixes) {
        if (term.value.startsWith(ns)) return p + term.value.slice(ns.length)
      }
      return '<' + term.value + '>'
    case 'BlankNode':
      return '_:' + term.value
    case 'Literal': {
      let s = JSON.stringify(term.value)
      if (s.length > 120) s = s.slice(0, 117) + '..."'
      if (term.language) return s + '@' + term.language
      if (term.datatype && term.datatype.value !== XSD + 'string') return s + '^^' + short(term.datatype)
      return s
    }
  }
  return String(term.value)
}

// key identifies a term in a Set.
const key = t => t.termType + ' ' + t.value

// toTerm makes an @rdfjs/data-model term of any RDF/JS-shaped term.
function toTerm (t) {
  switch (t.termType) {
    case 'NamedNode': return factory.namedNode(t.value)
    case 'BlankNode': return factory.blankNode(t.value)
    case 'Literal': return factory.literal(t.value, t.language || factory.namedNode(t.datatype.value))
    case 'DefaultGraph': return factory.defaultGraph()
  }
  throw new Error(`unexpected term type ${t.termType}`)
}

function usage (msg) {
  process.stderr.write(`validate.mjs: ${msg}\nusage: node validate.mjs [--json] [--self-check] [--shapes FILE.ttl]... FILE.jsonld...\n`)
  process.exit(2)
}

const here = dirname(fileURLToPath(import.meta.url))
let shapeFiles = []
const files = []
let asJSON = false
let selfCheck = false
const argv = process.argv.slice(2)
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]
  if (a === '--json') asJSON = true
  else if (a === '--self-check') selfCheck = true
  else if (a === '--shapes') {
    if (i + 1 >= argv.length) usage('--shapes needs a file')
    shapeFiles.push(argv[++i])
  } else if (a.startsWith('-')) usage(`unknown flag ${a}`)
  else files.push(a)
}
if (files.length === 0 && !selfCheck) usage('no JSON-LD file given')
if (shapeFiles.length === 0) {
  const testdata = join(here, '..', '..', 'custody', 'caseuco', 'testdata')
  shapeFiles = [join(testdata, 'case-1.4.0.ttl'), join(testdata, 'case-1.4.0-subclasses.ttl')]
}

const started = process.hrtime.bigint()
const ms = () => Number(process.hrtime.bigint() - started) / 1e6

// The ontology, which is also the shapes graph.
const ontologyText = []
const ontology = []
const ontologyOx = []
for (const f of shapeFiles) {
  let text
  try {
    text = readFileSync(f, 'utf8')
  } catch (err) {
    usage(`reading ${f}: ${err.message}`)
  }
  try {
    for (const q of oxigraph.parse(text, { format: 'text/turtle' })) {
      ontologyOx.push(q)
      ontology.push(factory.quad(toTerm(q.subject), toTerm(q.predicate), toTerm(q.object)))
    }
  } catch (err) {
    usage(`parsing ${f}: ${err.message}`)
  }
  ontologyText.push(text)
}
const parsedAt = ms()

// What the ontology defines, as case_validate reads it, and of what kind.
const defined = new Set()
const classes = new Set()
const properties = new Set()
const datatypes = new Set()
const versionPredicates = new Set(['backwardCompatibleWith', 'imports', 'incompatibleWith', 'priorVersion', 'versionIRI'].map(p => OWL + p))
for (const q of ontology) {
  if (q.subject.termType !== 'NamedNode') continue
  const s = q.subject.value
  if (q.predicate.value === RDF + 'type') {
    switch (q.object.value) {
      case OWL + 'Class':
        classes.add(s); defined.add(s); break
      case OWL + 'ObjectProperty': case OWL + 'DatatypeProperty': case OWL + 'AnnotationProperty':
        properties.add(s); defined.add(s); break
      case RDFS + 'Datatype':
        datatypes.add(s); defined.add(s); break
      case OWL + 'NamedIndividual': case OWL + 'Ontology':
        defined.add(s); break
    }
  }
  if (versionPredicates.has(q.predicate.value)) {
    defined.add(s)
    if (q.object.termType === 'NamedNode') defined.add(q.object.value)
  }
}

// SHACL Core. owl:imports are already merged (the ontology file is the
// import closure), so an import loads nothing.
const validator = new SHACLValidator(ontology, { importGraph: async () => datasetFactory.dataset() })
await validator.loadOwlImports()
const shapesGraph = validator.$shapes.dataset
// sh:sparql is checked below; to the core engine it is a constraint that
// always holds (rdf-validate-shacl knows the component but has no
// validator for it, and stops at it).
validator.validators.set(nn(SH + 'SPARQLConstraintComponent'), { validate: () => true })
// sh:class: a value is an instance of C when one of its rdf:types is C or
// a subclass of C (SHACL 4.1.1), which rdf-validate-shacl 0.6.5 checks by
// listing every subclass of C anew at each value (all of UCO under
// core:UcoObject, seconds an export). This checks the same by walking up
// from the value's types, once a type and file.
let superclasses = new Map() // type IRI -> its ancestors' IRIs, for the file's graph
validator.validators.set(nn(SH + 'ClassConstraintComponent'), {
  validate (context, focusNode, valueNode, constraint) {
    const cls = constraint.getParameterValue(nn(SH + 'class'))
    const data = context.$data.dataset
    for (const q of data.match(valueNode, nn(RDF + 'type'), null)) {
      if (q.object.termType === 'NamedNode' && ancestors(q.object, data, superclasses).has(cls.value)) return true
    }
    return false
  },
  validationMessage: 'Value is not an instance of {$class}'
})
validator.shapesGraph = new validator.shapesGraph.constructor(validator)
const shapes = validator.shapesGraph.shapesWithTarget
if (shapes.length === 0) usage('the shapes graph has no shape with a target')

// SPARQL-based constraints (SHACL 5), which rdf-validate-shacl ignores.
const turtlePrefixes = new Map([['rdf', RDF], ['rdfs', RDFS], ['owl', OWL], ['xsd', XSD], ['sh', SH]])
for (const text of ontologyText) {
  for (const m of text.matchAll(/^@prefix\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>\s*\.\s*$/gm)) {
    if (m[1]) turtlePrefixes.set(m[1], m[2])
  }
}
const sparqlConstraints = []
for (const q of ontology) {
  if (q.predicate.value !== SH + 'sparql') continue
  const shape = q.subject
  const c = q.object
  const one = (s, p) => { for (const x of shapesGraph.match(s, nn(p), null)) return x.object; return null }
  const all = (s, p) => [...shapesGraph.match(s, nn(p), null)].map(x => x.object)
  if (one(c, SH + 'deactivated')?.value === 'true' || one(shape, SH + 'deactivated')?.value === 'true') continue
  const select = one(c, SH + 'select')
  if (!select) usage(`SPARQL constraint of ${short(shape)} has no sh:select (ASK-based validators are not supported)`)
  let query = select.value
  const decls = []
  for (const prefixes of all(c, SH + 'prefixes')) {
    for (const d of all(prefixes, SH + 'declare')) decls.push(`PREFIX ${one(d, SH + 'prefix').value}: <${one(d, SH + 'namespace').value}>`)
  }
  const path = one(shape, SH + 'path')
  if (query.includes('$PATH')) {
    if (!path || path.termType !== 'NamedNode') usage(`SPARQL constraint of ${short(shape)} uses $PATH with a complex path, which is not supported`)
    query = query.split('$PATH').join(`<${path.value}>`)
  }
  // Prefixes the query uses without declaring them are those of the
  // ontology's Turtle, as pySHACL (under case_validate) reads them.
  for (const [prefix, ns] of turtlePrefixes) {
    if (!new RegExp(`PREFIX\\s+${prefix}:`, 'i').test(query)) decls.push(`PREFIX ${prefix}: <${ns}>`)
  }
  // The query runs once, $this unbound, and its rows are then matched to
  // the focus nodes, which is what pre-binding $this gives, provided
  // solutions are also grouped by $this.
  if (/\bGROUP\s+BY\b/i.test(query) && !/\bGROUP\s+BY\b[^}]*[?$]this\b/i.test(query)) {
    query = query.replace(/\bGROUP\s+BY\b/i, 'GROUP BY ?this')
  }
  const messages = all(c, SH + 'message')
  sparqlConstraints.push({
    shape,
    query: [...decls, query].join('\n'),
    path,
    message: (messages.length ? messages : all(shape, SH + 'message')).map(m => m.value).join(' ') || 'SPARQL constraint',
    severity: (one(shape, SH + 'severity') || nn(SH + 'Violation'))
  })
}
// The Oxigraph store and the merged graph hold the ontology; each file's
// data is added to them and taken away again.
const store = new oxigraph.Store(ontologyOx)
const merged = datasetFactory.dataset(ontology)
const ox = t => {
  switch (t.termType) {
    case 'NamedNode': return oxigraph.namedNode(t.value)
    case 'BlankNode': return oxigraph.blankNode(t.value)
    case 'Literal': return oxigraph.literal(t.value, t.language || oxigraph.namedNode(t.datatype.value))
  }
  throw new Error(`unexpected term type ${t.termType}`)
}
const compiledAt = ms()

// Nothing is ever fetched: a remote context or document is an error.
const documentLoader = async url => {
  throw new Error(`refusing to load ${url}: the @context must be inline`)
}

// Targets (SHACL 2.1.3). rdf-validate-shacl lists a shape's targets by
// walking the whole subclass tree of each target class, for each of the
// 257 shapes, for each file; this finds the same targets among the nodes
// asked about, from the ancestors of their types. --self-check compares
// the two on every node of the ontology.
const RDF_TYPE = nn(RDF + 'type')
// ancestors is a class and its superclasses (IRIs), in data.
function ancestors (type, data, cache) {
  let set = cache.get(type.value)
  if (set) return set
  set = new Set([type.value])
  cache.set(type.value, set)
  for (const q of data.match(type, nn(RDFS + 'subClassOf'), null)) {
    if (q.object.termType === 'NamedNode') for (const a of ancestors(q.object, data, cache)) set.add(a)
  }
  return set
}
const shapeCache = new Map()
function targetsOf (shapeNode) {
  const outs = p => [...shapesGraph.match(shapeNode, nn(SH + p), null)].map(q => q.object)
  const classes = new Set(outs('targetClass').map(t => t.value))
  for (const q of shapesGraph.match(shapeNode, RDF_TYPE, null)) {
    if (q.object.termType === 'NamedNode' && ancestors(q.object, shapesGraph, shapeCache).has(RDFS + 'Class')) classes.add(shapeNode.value)
  }
  return {
    classes: [...classes],
    nodes: new Set(outs('targetNode').map(key)),
    subjectsOf: outs('targetSubjectsOf').map(t => t.value),
    objectsOf: outs('targetObjectsOf').map(t => t.value)
  }
}
const coreTargets = shapes.map(shape => targetsOf(shape.shapeNode))
for (const c of sparqlConstraints) c.targets = targetsOf(c.shape)

// facts gathers what targets are resolved from, for each candidate node.
function facts (data, candidates) {
  const cache = superclasses
  return candidates.map(term => {
    const classes = new Set()
    const subjectOf = new Set()
    const objectOf = new Set()
    for (const q of data.match(term, null, null)) {
      subjectOf.add(q.predicate.value)
      if (q.predicate.equals(RDF_TYPE) && q.object.termType === 'NamedNode') for (const a of ancestors(q.object, data, cache)) classes.add(a)
    }
    if (term.termType !== 'Literal') for (const q of data.match(null, null, term)) objectOf.add(q.predicate.value)
    return { term, key: key(term), classes, subjectOf, objectOf }
  })
}
function targeted (t, f) {
  return t.classes.some(c => f.classes.has(c)) || t.nodes.has(f.key) ||
    t.subjectsOf.some(p => f.subjectOf.has(p)) || t.objectsOf.some(p => f.objectOf.has(p))
}

// validate checks one merged graph, SHACL Core and SPARQL constraints, on
// the targets among candidates (terms).
function validate (merged, candidates, fail) {
  const stats = { focus: 0, checks: 0 }
  validator.setDataGraph(merged)
  superclasses = new Map()
  const engine = validator.validationEngine
  engine.initReport()
  engine.validationError = null
  const all = facts(merged, candidates)
  const focusSeen = new Set()
  shapes.forEach((shape, i) => {
    for (const f of all) {
      if (!targeted(coreTargets[i], f)) continue
      focusSeen.add(f.key)
      stats.checks++
      engine.validateNodeAgainstShape(f.term, shape, validator.$data)
    }
  })
  if (engine.validationError) throw engine.validationError
  const report = engine.getReport()
  for (const r of report.results) {
    fail(short(r.severity).replace(/^sh:/, ''), short(r.focusNode), r.path ? short(r.path) : '-',
      r.message.map(m => m.value).join(' ') || short(r.sourceConstraintComponent), short(r.value))
  }
  for (const c of sparqlConstraints) {
    const targets = new Set(all.filter(f => targeted(c.targets, f)).map(f => f.key))
    if (targets.size === 0) continue
    stats.checks += targets.size
    for (const row of store.query(c.query)) {
      const focus = row.get('this')
      if (!focus || !targets.has(key(focus))) continue
      const value = row.get('value') || focus
      fail(short(c.severity).replace(/^sh:/, ''), short(focus), c.path ? short(c.path) : '-', c.message, short(value))
    }
  }
  stats.focus = focusSeen.size
  return stats
}

if (selfCheck) {
  const results = []
  const t0 = ms()
  const alone = datasetFactory.dataset(ontology)
  const fail = (severity, focus, path, message, value) => results.push({ severity, focus, path, message, value })
  const terms = new Map()
  for (const q of ontology) {
    terms.set(key(q.subject), q.subject)
    if (q.object.termType !== 'Literal') terms.set(key(q.object), q.object)
  }
  const stats = validate(alone, [...terms.values()], fail)
  // The targets found are rdf-validate-shacl's own.
  const all = facts(alone, [...terms.values()])
  shapes.forEach((shape, i) => {
    const mine = all.filter(f => targeted(coreTargets[i], f)).map(f => f.key).sort()
    const theirs = [...new Set(shape.getTargetNodes(validator.$data).map(key))].sort()
    if (mine.join('\n') !== theirs.join('\n')) fail('Error', short(shape.shapeNode), '-', `targets differ from rdf-validate-shacl's: ${mine.length} found, ${theirs.length} listed`, '-')
  })
  const out = { selfCheck: true, conforms: results.length === 0, results, focus: stats.focus, checks: stats.checks, ms: Math.round(ms() - t0) }
  if (asJSON) process.stdout.write(JSON.stringify(out) + '\n')
  else {
    process.stdout.write(`ontology alone: ${results.length === 0 ? 'conforms' : results.length + ' result(s)'} (${stats.focus} focus nodes, ${stats.checks} checks, ${out.ms} ms)\n`)
    for (const r of results) process.stdout.write(`  ${r.severity}: ${r.message}\n    focus ${r.focus}  path ${r.path}  value ${r.value}\n`)
  }
  if (results.length > 0) process.exit(1)
}

async function check (file) {
  const out = { file, conforms: false, results: [], triples: 0, nodes: 0, targeted: 0, focus: 0, checks: 0 }
  const fail = (severity, focus, path, message, value) => out.results.push({ severity, focus, path, message, value })
  let doc
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'))
  } catch (err) {
    fail('Error', '-', '-', `reading: ${err.message}`, '-')
    return out
  }
  let quads
  try {
    // safe: whatever JSON-LD would drop (a key the context does not map,
    // a malformed IRI or value) is an error, not a silent loss.
    quads = await jsonld.toRDF(doc, { documentLoader, safe: true })
  } catch (err) {
    const ev = err.details && err.details.event
    let detail = ev ? ` (${ev.code}: ${JSON.stringify(ev.details)})` : ''
    if (err.details && err.details.cause) detail += ` (${err.details.cause.message})`
    fail('Error', '-', '-', `JSON-LD to RDF: ${err.message}${detail}`, '-')
    return out
  }
  const data = []
  for (const q of quads) {
    if (q.graph.termType !== 'DefaultGraph') {
      fail('Error', short(toTerm(q.subject)), '-', 'data in a named graph', short(toTerm(q.graph)))
      continue
    }
    // The data's blank nodes get labels of their own, apart from the
    // ontology's.
    const term = t => t.termType === 'BlankNode' ? factory.blankNode('data-' + t.value) : toTerm(t)
    data.push(factory.quad(term(q.subject), term(q.predicate), term(q.object)))
  }
  out.triples = data.length
  if (data.length === 0) fail('Error', '-', '-', 'no triples', '-')

  // Terms.
  const types = new Map()
  const unknown = new Map()
  const note = (iri, why) => { if (!unknown.has(iri)) unknown.set(iri, why) }
  for (const q of data) {
    for (const t of [q.subject, q.predicate, q.object]) {
      if (t.termType === 'NamedNode' && isCDO(t.value) && !defined.has(t.value)) note(t.value, 'not defined by CASE/UCO 1.4.0')
      if (t.termType === 'Literal' && isCDO(t.datatype.value) && !defined.has(t.datatype.value)) note(t.datatype.value, 'not defined by CASE/UCO 1.4.0')
    }
    if (q.subject.termType === 'NamedNode' && isCDO(q.subject.value)) note(q.subject.value, 'a CASE/UCO term used as a subject: an export may not assert about the ontology')
    const p = q.predicate.value
    if (p === RDF + 'type') {
      if (!types.has(key(q.subject))) types.set(key(q.subject), [])
      types.get(key(q.subject)).push(q.object.value)
      if (!classes.has(q.object.value)) note(q.object.value, 'used as a class but not a CASE/UCO class')
    } else if (!properties.has(p)) {
      note(p, 'used as a property but not a CASE/UCO property')
    }
    if (q.object.termType === 'Literal' && !q.object.language) {
      const dt = q.object.datatype.value
      if (!dt.startsWith(XSD) && !datatypes.has(dt)) note(dt, 'datatype neither XML Schema nor CASE/UCO')
    }
  }
  for (const [iri, why] of unknown) fail('Violation', '-', '-', `unknown term: ${why}`, short(nn(iri)))

  // The export's nodes: the focus nodes.
  const nodes = new Map()
  const subjects = new Set()
  for (const q of data) {
    subjects.add(key(q.subject))
    nodes.set(key(q.subject), q.subject)
    if (q.object.termType === 'BlankNode' || (q.object.termType === 'NamedNode' && !isCDO(q.object.value))) nodes.set(key(q.object), q.object)
  }
  out.nodes = subjects.size

  // The data is added to the merged graph and the store for this file and
  // taken away again; a triple the ontology has already is left alone.
  const added = data.filter(q => !merged.has(q))
  const addedOx = added.map(q => oxigraph.quad(ox(q.subject), ox(q.predicate), ox(q.object)))
  for (const q of added) merged.add(q)
  for (const q of addedOx) store.add(q)
  let stats
  try {
    stats = validate(merged, [...nodes.values()], fail)
  } finally {
    for (const q of added) merged.delete(q)
    for (const q of addedOx) store.delete(q)
  }
  out.focus = stats.focus
  out.checks = stats.checks
  // How many of the export's subjects some shape targets by class.
  const targetClasses = new Set([...shapesGraph.match(null, nn(SH + 'targetClass'), null)].map(q => q.object.value))
  for (const s of subjects) {
    const seen = new Set()
    const todo = [...(types.get(s) || [])]
    while (todo.length > 0) {
      const c = todo.pop()
      if (seen.has(c)) continue
      seen.add(c)
      if (targetClasses.has(c)) { out.targeted++; break }
      for (const q of shapesGraph.match(nn(c), nn(RDFS + 'subClassOf'), null)) todo.push(q.object.value)
    }
  }
  out.conforms = out.results.length === 0
  return out
}

let failed = 0
let totalResults = 0
for (const f of files) {
  const out = await check(f)
  totalResults += out.results.length
  if (!out.conforms) failed++
  if (asJSON) {
    process.stdout.write(JSON.stringify(out) + '\n')
    continue
  }
  if (out.conforms) {
    process.stdout.write(`${f}: conforms (${out.triples} triples, ${out.nodes} nodes, ${out.targeted} of them of a class a shape targets; ${out.checks} shape checks on ${out.focus} focus nodes)\n`)
  } else {
    process.stdout.write(`${f}: ${out.results.length} result(s)\n`)
    for (const r of out.results) {
      process.stdout.write(`  ${r.severity}: ${r.message}\n    focus ${r.focus}  path ${r.path}  value ${r.value}\n`)
    }
  }
}
const summary = {
  files: files.length,
  failed,
  results: totalResults,
  shapes: shapes.length,
  sparqlConstraints: sparqlConstraints.length,
  ontologyTriples: ontology.length,
  loadMs: Math.round(parsedAt),
  compileMs: Math.round(compiledAt - parsedAt),
  totalMs: Math.round(ms())
}
if (asJSON) {
  process.stdout.write(JSON.stringify({ summary }) + '\n')
} else {
  process.stdout.write(`${files.length} file(s), ${failed} not conforming; ${summary.shapes} shapes with targets and ${summary.sparqlConstraints} SPARQL constraints ` +
    `from ${summary.ontologyTriples} ontology triples; load ${summary.loadMs} ms, compile ${summary.compileMs} ms, total ${summary.totalMs} ms\n`)
}
process.exit(failed > 0 ? 1 : 0)

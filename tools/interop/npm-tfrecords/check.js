// Reads every shard of a make-records output directory with @roboflow/tfrecords, a TFRecord reader written
// independently of this project (JavaScript; its own CRC-32C, masking and tf.train.Example protobuf code), and checks
// what a TensorFlow user would rely on:
//   - every record's length and payload CRCs pass (the reader stops at the first bad one, so the counts must match
//     the manifest's);
//   - image/encoded is byte for byte the input file, for inputs written as they were (--report says which);
//   - image/class/label is 1-based and names the class whose synset image/class/synset holds;
//   - the --report puts each file at the shard and record where the reader found it;
//   - image/format, image/filename, image/width, image/height, image/channels are present and plausible.
// Usage: node check.js RECORDS_DIR INPUT_DIR REPORT_JSON
"use strict";
const fs = require("fs");
const path = require("path");
const { TFRecordsReader } = require("@roboflow/tfrecords/src/tensorFlowReader");

// The reader's getFeature helpers reach into google-protobuf internals that newer google-protobuf releases laid out
// differently (they return undefined for int64 lists), so features are read through the generated message API of
// the messages the reader parsed.
function feature(reader, record, key) {
  const f = reader.imageMessages[record].getContext().getFeatureMap().get(key);
  if (!f) throw new Error(`record ${record}: no feature ${key}`);
  return f;
}
const int64 = (reader, i, key) => Number(feature(reader, i, key).getInt64List().getValueList()[0]);
const bytes = (reader, i, key) => Buffer.from(feature(reader, i, key).getBytesList().getValueList_asU8()[0]);
const text = (reader, i, key) => bytes(reader, i, key).toString("utf8");

const [recordsDir, inputDir, reportPath] = process.argv.slice(2);
if (!reportPath) {
  console.error("usage: node check.js RECORDS_DIR INPUT_DIR REPORT_JSON");
  process.exit(2);
}

const manifest = JSON.parse(fs.readFileSync(path.join(recordsDir, "manifest.json"), "utf8"));
const report = JSON.parse(fs.readFileSync(reportPath, "utf8"));
const classes = manifest.classes;
const shards = manifest.shards;
const synsetOf = new Map(classes.map((c) => [c.index, c.synset]));
const outcomeOf = new Map(report.files.map((o) => [o.path, o]));

const problems = [];
let records = 0;
let identical = 0;
for (const shard of shards) {
  const file = shard.file;
  const expected = shard.records;
  const reader = new TFRecordsReader(fs.readFileSync(path.join(recordsDir, file)));
  if (reader.length !== expected) {
    problems.push(`${file}: the reader got ${reader.length} records, the manifest lists ${expected} (a CRC or framing check failed)`);
  }

  for (let i = 0; i < reader.length; i++) {
    const name = `${file} record ${i}`;
    const label = int64(reader, i, "image/class/label");
    const synset = text(reader, i, "image/class/synset");
    const filename = text(reader, i, "image/filename");
    const format = text(reader, i, "image/format");
    const width = int64(reader, i, "image/width");
    const height = int64(reader, i, "image/height");
    const channels = int64(reader, i, "image/channels");
    const encoded = bytes(reader, i, "image/encoded");
    if (!(label >= 1 && label <= classes.length)) problems.push(`${name}: label ${label} is not 1..${classes.length}`);
    else if (synsetOf.get(label - 1) !== synset) problems.push(`${name}: label ${label} but synset ${synset}`);
    if (format.toLowerCase() !== "jpeg") problems.push(`${name}: image/format ${format}`);
    if (!(width > 0 && height > 0) || ![1, 3].includes(channels)) problems.push(`${name}: ${width}x${height}x${channels}`);
    if (encoded.length < 4 || encoded[0] !== 0xff || encoded[1] !== 0xd8) problems.push(`${name}: image/encoded is not a JPEG`);
    const outcome = outcomeOf.get(filename);
    if (!outcome || outcome.shard !== file || outcome.record !== i) problems.push(`${name}: the report puts ${filename} elsewhere`);
    else if (outcome.label !== label - 1) problems.push(`${name}: label ${label} (1-based), the report says ${outcome.label} (0-based)`);
    if (outcome && outcome.status === "written") {
      if (!encoded.equals(fs.readFileSync(path.join(inputDir, filename)))) problems.push(`${name}: image/encoded differs from ${filename}`);
      else identical++;
    }
    records++;
  }
}

console.log(`@roboflow/tfrecords read ${records} records from ${shards.length} shard(s); ${identical} byte-identical to their input files`);
for (const p of problems.slice(0, 20)) console.log(`problem: ${p}`);
if (problems.length > 0 || records === 0) {
  console.log(`FAILED: ${problems.length} problem(s)`);
  process.exit(1);
}
console.log("OK");

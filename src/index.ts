/**
 * pgo-ledger's library API: everything the command line does, typed.
 *
 *   const ledger = await openLedger('pgo-ledger.db');
 *   await ingestFile(ledger, 'trace.log');
 *   const p = ledger.profileByKey('fixture:None:')!;
 *   renderProfile(ledger.view(p.id).profile);
 */
export * from './model/index.ts';
export { pickleProfile, unpickleProfile, sourceNamesOf, codeStringsOf, type CodeStrings, PickleError, ProfileShapeError, type PickleProtocol, type SourceNames } from './codecs/pickle/index.ts';
export { decodeMegaCache, encodeMegaCache, MegaCacheError, type CacheArtifact, type MegaCache } from './codecs/megacache.ts';
export { decodeRemoteValue, encodeRemoteValue, remoteKey, cacheKeyOfRemoteKey } from './codecs/remote-value.ts';
export { parseRenderText } from './codecs/render-text.ts';
export { entryFromJson, entryToJson, type EntryJson } from './codecs/entry-json.ts';
export { openLedger, type Ledger, type NewEvent, type AppendResult, type HistoryRow, type ProfileRow, type FoldFilter } from './store/ledger.ts';
export { fold, applyEvent, type FoldStep, type StreamView } from './store/fold.ts';
export type { EventBody, EventKind, StoredEvent } from './store/events.ts';
export { verifyLedger, type VerifyResult, type VerifyDifference } from './store/verify.ts';
export { readAfter, START, type FollowCursor, type FollowedEvent, type FollowBatch } from './store/follow.ts';
export { copyLedger, type CopyResult } from './store/copy.ts';
export { explain, type DimStory, type ScalarKind, type ExplainOptions, type Evidence } from './store/why.ts';
export { diffProfiles, type EntryChange } from './store/diff.ts';
export { retractRun } from './store/retract.ts';
export { retractedRuns } from './store/retracted-runs.ts';
export { historyAsOf } from './store/history.ts';
export { loggedRecords, type LoggedRecord } from './store/logged-records.ts';
export { runsByProfile } from './store/profile-runs.ts';
export { describedShapes, sawSentence, type DescribedShape } from './store/described-shapes.ts';
export { describedScalars, type DescribedScalar } from './store/described-scalars.ts';
export { ingestFile, detectKind, type IngestKind, type FileIngestOptions, type FileIngestSummary } from './adapters/ingest-file.ts';
export { ingestObservations } from './adapters/ingest-observations.ts';
export { exportBytes, profilePickle, writeLocalDir, type ExportFormat, type LayoutOptions } from './adapters/export-profile.ts';
export { sourceNamesFor, writerStringsFor, writtenStrings, type WriterStrings } from './adapters/source-names.ts';
export { publishProfile, previewPublish, publishMerged, pullProfiles, RedisError, type PublishPreview, type MergedPublish } from './adapters/redis.ts';
export { mergeProfiles } from './adapters/merge-profiles.ts';
export { watch, type WatchOptions } from './adapters/watch/watch.ts';
export { statusSink, type StatusSink, type PassReport } from './adapters/watch/status.ts';
export type { WatchCursor } from './store/cursors.ts';
export { defineLiveMerge, dropLiveMerges, liveMerges, globToRegExp, type LiveMerge } from './store/live-merges.ts';
export { recompileStats, parseWindowLength, type StormWindow, type DynamicDim } from './store/stats.ts';
export { reportProfile, reportJobs, type ReportProfile, type ReportJob } from './report/report-data.ts';
export { renderReportHtml } from './report/render-html.ts';
export { type Window, parsePoint, isWholeLog } from './store/window.ts';
export { LedgerError, classify, fullMessage, type FailureKind } from './errors.ts';

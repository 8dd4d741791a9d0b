/**
 * Starting and ending operating-system processes, for every process the engine runs: an action's
 * fresh process and a persistent worker's long-lived tool process alike. {@link
 * build.hearth.core.process.ProcessLauncher} is the one hook through which they are all started, so
 * that tests can observe or refuse launches and embedders can wrap commands (in a sandbox, say);
 * {@link build.hearth.core.process.ProcessTrees} measures a process together with its descendants
 * and kills them all. Depends on nothing else in the engine.
 */
package build.hearth.core.process;

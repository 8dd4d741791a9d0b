/**
 * The web UI (issue 17): server-rendered pages of what the server ran, on the HTTP side of its port
 * under {@code /ui/}. {@link build.hearth.web.WebUi} serves them from the same model as {@code
 * /admin} and the CAS; {@link build.hearth.web.RecentActions} keeps the bounded record of recent
 * executions, failures included, that the pages read; {@link build.hearth.web.ActionLinks} builds
 * the address of an action's page. Templates are jte, precompiled at build time with HTML escaping
 * of every output.
 */
package build.hearth.web;

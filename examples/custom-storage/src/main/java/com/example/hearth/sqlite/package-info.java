/**
 * A Hearth storage plugin on SQLite: a blob store and an action-cache store of type {@code sqlite},
 * discovered through {@code META-INF/services}. Only the two providers are public; the stores are
 * reached through the SPI's interfaces.
 */
package com.example.hearth.sqlite;

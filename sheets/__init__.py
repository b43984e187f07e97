"""Spreadsheets in and out: templates, imports checked row by row, and streamed exports.

Everything here reads the record-type declarations (`pushes.spec`, `pushes.registry`): a type
registered there gets its template, its import and its export without a line of its own.
"""

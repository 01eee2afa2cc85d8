/**
 * objectives: see the files of this folder.
 *
 * @module
 */
export {};

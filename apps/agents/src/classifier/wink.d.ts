// Type declarations for the two wink packages the classifier uses (neither ships its own types).
// Only the members Troupe calls are declared.

declare module 'wink-naive-bayes-text-classifier' {
  /** A multinomial naive Bayes text classifier (odds in log base 2). */
  interface WinkNaiveBayesTextClassifier {
    definePrepTasks(tasks: Array<(input: unknown) => unknown>): number;
    defineConfig(config: { considerOnlyPresence?: boolean; smoothingFactor?: number }): boolean;
    learn(input: string | string[], label: string): boolean;
    consolidate(): boolean;
    /** `[label, log2 odds]` pairs, best first; `[['unknown', 0]]` when no token is in the vocabulary. */
    computeOdds(input: string | string[]): Array<[string, number]>;
    predict(input: string | string[]): string;
    stats(): { labelWiseSamples: Record<string, number>; labelWiseWords: Record<string, number>; vocabulary: number };
    exportJSON(): string;
    importJSON(json: string): boolean;
  }
  function naiveBayesTextClassifier(): WinkNaiveBayesTextClassifier;
  export = naiveBayesTextClassifier;
}

declare module 'wink-nlp-utils' {
  const nlpUtils: {
    string: {
      lowerCase(input: string): string;
      tokenize0(input: string): string[];
      sentences(input: string): string[];
    };
    tokens: {
      removeWords(tokens: string[], stopWords?: unknown): string[];
      stem(tokens: string[]): string[];
    };
  };
  export = nlpUtils;
}

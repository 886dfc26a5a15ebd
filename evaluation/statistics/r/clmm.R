# ordered(rating) ~ system + (1|participant) + (1|clip), cumulative logit, by ordinal::clmm (Laplace).
# Usage: Rscript clmm.R DATA.csv OUT.csv REFERENCE
# DATA.csv: columns y (integer rating), system, participant, clip. OUT.csv as for glmer.R; a positive
# estimate means higher ratings than the reference system.
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(ordinal))
d <- read.csv(args[1], colClasses = c(y = "integer", system = "character", participant = "character",
                                      clip = "character"))
d$system <- relevel(factor(d$system), ref = args[3])
d$y <- factor(d$y, ordered = TRUE)
d$participant <- factor(d$participant)
d$clip <- factor(d$clip)
notes <- character()
fit <- withCallingHandlers(
  clmm(y ~ system + (1 | participant) + (1 | clip), data = d, link = "logit", Hess = TRUE),
  warning = function(w) { notes <<- c(notes, conditionMessage(w)); invokeRestart("muffleWarning") }
)
co <- summary(fit)$coefficients
terms <- grep("^system", rownames(co), value = TRUE)
est <- co[terms, "Estimate"]; se <- co[terms, "Std. Error"]
sds <- sapply(VarCorr(fit), function(v) sqrt(v[1, 1]))
out <- rbind(
  data.frame(kind = "effect", name = sub("^system", "", terms), estimate = est, std_error = se,
             ci_low = est - qnorm(0.975) * se, ci_high = est + qnorm(0.975) * se,
             p_value = co[terms, "Pr(>|z|)"]),
  data.frame(kind = "random_sd", name = names(sds), estimate = unname(sds), std_error = NA, ci_low = NA,
             ci_high = NA, p_value = NA),
  if (length(notes)) data.frame(kind = "note", name = notes, estimate = NA, std_error = NA, ci_low = NA,
                                ci_high = NA, p_value = NA)
)
write.csv(out, args[2], row.names = FALSE)

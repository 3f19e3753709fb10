// Starts GOV.UK Frontend's components (skip link, service navigation, buttons, error summary).
import { initAll } from "./govuk-frontend.min.js";

initAll();

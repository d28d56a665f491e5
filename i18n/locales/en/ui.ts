export default {
  close: 'Close',
  cancel: 'Cancel',
  confirm: 'Confirm',
  save: 'Save',
  copy: 'Copy',
  copied: 'Copied',
  copyFailed: 'Could not copy. Select the text and copy it by hand.',
  download: 'Download',
  loading: 'Loading…',
  showPassword: 'Show password',
  hidePassword: 'Hide password',
  retry: 'Retry',
}
